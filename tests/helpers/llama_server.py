"""A real OpenAI-compatible server for the endpoint tests: cyllama's HTTP server (the llama.cpp
runtime's own) serving a GGUF on loopback.

    python tests/helpers/llama_server.py MODEL.gguf PORT

cyllama's server formats chat messages as plain "System:/User:" text; llama.cpp's own server,
vLLM and hosted endpoints apply the model's chat template, so this launcher does the same
(with cyllama's apply_chat_template) to behave like the servers users actually run.
"""

import sys
import time

from cyllama.api import apply_chat_template
from cyllama.llama.server.python import PythonServer, ServerConfig


def main(model: str, port: int) -> None:
    class TemplatedServer(PythonServer):
        def _messages_to_prompt(self, messages):
            return apply_chat_template([{"role": m.role, "content": m.content} for m in messages], model)

    server = TemplatedServer(ServerConfig(model_path=model, host="127.0.0.1", port=port, n_ctx=4096))
    if not server.start():
        sys.exit("the server did not start")
    try:
        while True:
            time.sleep(1)
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
