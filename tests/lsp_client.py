"""yaml-language-server for the tests: installed with npm, driven over LSP on stdio.

``install()`` puts the pinned release into a cache under the system's temporary folder
(once: later runs reuse it; one install at a time across processes).
``LanguageServer`` opens files the way an editor does and collects the diagnostics the
server publishes for them.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

VERSION = "1.25.0"  # the newest release that runs on node 20 (2.x needs node 22)


def install() -> Path | None:
    """The server's start script, installed on first use; None without node and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    cache = Path(tempfile.gettempdir()) / "crmfiles-test-tools"
    home = cache / f"yaml-language-server-{VERSION}"
    server = home / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{home.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not server.is_file():
            staging = Path(tempfile.mkdtemp(prefix=f"{home.name}.", dir=cache))
            spec = f"yaml-language-server@{VERSION}"
            proc = subprocess.run(
                [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", spec],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0:
                shutil.rmtree(staging, ignore_errors=True)
                raise RuntimeError(f"npm could not install {spec}:\n{proc.stderr}")
            shutil.rmtree(home, ignore_errors=True)
            staging.rename(home)
    return server


class LanguageServer:
    """yaml-language-server over stdio: JSON-RPC messages with Content-Length headers.

    ``proxy`` is where it must send any download (the schema store's catalog is off)."""

    def __init__(self, server: Path, root: Path, env: dict[str, str], proxy: str) -> None:
        self.root = root
        self.proxy = proxy
        self.proc = subprocess.Popen(
            ["node", str(server), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.next_id = 0

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not line or length is None:
                self.inbox.put(None)
                return
            self.inbox.put(json.loads(stream.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive(timeout=60)
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message.get("result")

    def receive(self, timeout: float) -> dict[str, Any]:
        """The next message, answering the server's requests and keeping its
        diagnostics on the way."""
        message = self.inbox.get(timeout=timeout)
        assert message is not None, self.stderr()
        if "method" in message and "id" in message:  # a request of the server's
            result = None
            if message["method"] == "workspace/configuration":
                result = [self.settings(item.get("section")) for item in message["params"]["items"]]
            self.send({"id": message["id"], "result": result})
        elif message.get("method") == "textDocument/publishDiagnostics":
            self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
        return message

    def settings(self, section: str | None) -> Any:
        if section == "yaml":  # the schema store's catalog is a download: off
            return {"validate": True, "schemaStore": {"enable": False}}
        if section == "http":
            return {"proxy": self.proxy, "proxyStrictSSL": True}
        return None

    def start(self) -> None:
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": self.root.as_uri(),
                "capabilities": {"workspace": {"configuration": True}},
            },
        )
        self.send({"method": "initialized", "params": {}})
        self.send(
            {
                "method": "workspace/didChangeConfiguration",
                "params": {"settings": {"yaml": self.settings("yaml")}},
            }
        )

    def check(self, paths: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Open the files; their diagnostics once every file has some and the server
        has been quiet for two seconds."""
        uris = {(self.root / path).as_uri(): path for path in paths}
        for uri, path in uris.items():
            text = (self.root / path).read_text("utf-8")
            document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
            self.send({"method": "textDocument/didOpen", "params": {"textDocument": document}})
        while not set(uris) <= set(self.diagnostics):
            try:
                self.receive(timeout=60)
            except queue.Empty:
                missing = sorted(uris[uri] for uri in set(uris) - set(self.diagnostics))
                raise AssertionError(f"no diagnostics in 60 s for {missing}") from None
        while True:
            try:
                self.receive(timeout=2)
            except queue.Empty:
                break
        return {path: self.diagnostics[uri] for uri, path in uris.items()}

    def stop(self) -> None:
        try:
            self.request("shutdown", None)
            self.send({"method": "exit"})
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(the server is still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode("utf-8", "replace")
