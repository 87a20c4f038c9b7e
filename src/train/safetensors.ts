/**
 * The safetensors format lives in model/hf/ (the Hugging Face model conversion needs it and the
 * model layer cannot import train/); this re-export keeps train/'s own imports short.
 */
export * from "../model/hf/safetensors.js";
