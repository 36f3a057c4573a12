"""llama-cpp-python's OpenAI-compatible server, with llama.cpp's extra (repacking) buffer types off.

Usage: python scripts/llama_server.py --model FILE.gguf --model_alias NAME --host 127.0.0.1 --port P ...
(the arguments of `python -m llama_cpp.server`).

Why the wrapper: llama-cpp-python 0.3.36 built on a CPU with AMX repacks weights into its AMX
buffer type and then crashes (SIGSEGV) on the first forward of qwen2.5-coder-0.5b-instruct's
Q4_K_M GGUF (measured on a 2-core Xeon with AMX, December 2026). Turning the extra buffer types
off (`use_extra_bufts = False`, as llama.cpp's own `--no-extra-bufts` does) avoids it and changes
no result; on CPUs without AMX it changes nothing.
"""

import llama_cpp.llama as _llama
import llama_cpp.llama_cpp as _c

_default = _c.llama_model_default_params


def _params():
    p = _default()
    p.use_extra_bufts = False
    return p


_c.llama_model_default_params = _params
_llama.llama_cpp.llama_model_default_params = _params

if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    main()
