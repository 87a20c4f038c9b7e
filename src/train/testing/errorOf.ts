/** Test support: the error `action` throws, to assert on its class and several parts of its message. */
export function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}
