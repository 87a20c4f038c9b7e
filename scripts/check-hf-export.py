#!/usr/bin/env python3
"""Load a folder written by `vertical export RUN --format hf --reference-logits` in real transformers
and compare its logits with the ones Vertical's engine saved there (vertical-reference-logits.safetensors).

Needs torch + transformers (a GPU/torch machine; Vertical's own machine has no torch). Prints the
max |logit difference| over every position and vocabulary entry, whether transformers' tokenizer
gives the same token ids for the saved text, and exits 1 when the difference exceeds --tolerance
(default 1e-3, f32) or the tokens differ.

    npm run check:hf-export -- out/harbor-hf
"""
import argparse
import json
import sys
from pathlib import Path

REFERENCE = "vertical-reference-logits.safetensors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="the exported transformers folder")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="largest accepted |logit difference| (default 1e-3)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    args = parser.parse_args()

    reference_path = args.folder / REFERENCE
    if not reference_path.exists():
        print(f"{reference_path}: missing; export with --reference-logits", file=sys.stderr)
        return 2

    import torch
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Full f32 matmuls: TF32 would add ~1e-3 relative error of its own and hide (or fake) a mismatch.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")

    with safe_open(str(reference_path), framework="pt") as handle:
        metadata = handle.metadata()
        expected = handle.get_tensor("logits").to(torch.float32)
    tokens = json.loads(metadata["tokens"])
    text = metadata["text"]

    tokenizer = AutoTokenizer.from_pretrained(args.folder)
    hf_tokens = tokenizer(text)["input_ids"]
    tokens_match = hf_tokens == tokens

    model = AutoModelForCausalLM.from_pretrained(args.folder, torch_dtype=torch.float32, attn_implementation="eager").to(device).eval()
    with torch.no_grad():
        logits = model(torch.tensor([tokens], device=device)).logits[0].to("cpu", torch.float32)
    if logits.shape != expected.shape:
        print(f"shape mismatch: transformers {tuple(logits.shape)}, Vertical {tuple(expected.shape)}", file=sys.stderr)
        return 1
    difference = (logits - expected).abs().max().item()
    same_argmax = bool((logits.argmax(-1) == expected.argmax(-1)).all().item())

    print(f"model:        {model.config.architectures[0]} ({args.folder}) on {device}, torch {torch.__version__}")
    print(f"tokens:       {len(tokens)}; transformers' tokenizer gives the same ids: {tokens_match}")
    if not tokens_match:
        print(f"  vertical:     {tokens}\n  transformers: {hf_tokens}")
    print(f"argmax equal at every position: {same_argmax}")
    print(f"max |logit difference| = {difference:.3e} (tolerance {args.tolerance:g})")
    return 0 if difference <= args.tolerance and tokens_match else 1


if __name__ == "__main__":
    sys.exit(main())
