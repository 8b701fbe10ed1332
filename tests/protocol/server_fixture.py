"""A schedy-server on a fresh SQLite database in a temporary directory, on a
free port of 127.0.0.1, with one user: for the tests written in Python (the
protocol worker, the installed package)."""

import json
import os
import re
import subprocess
import tempfile


class Server:
    def __init__(self, binary, env=None):
        self.binary = binary
        self.dir = tempfile.TemporaryDirectory(prefix="schedy-pytest-")
        self.database = "sqlite:" + os.path.join(self.dir.name, "fresh", "schedy.sqlite3")
        self.env = dict(os.environ if env is None else env)
        self.env["HOME"] = self.dir.name  # nothing of the user's is read or written
        self.env["XDG_DATA_HOME"] = os.path.join(self.dir.name, "data")
        self.process = None
        self.root = None

    def run(self, *args):
        """Runs the binary on the database; returns its stdout, fails on a non-zero exit."""
        done = subprocess.run([self.binary, "--database", self.database, *args], env=self.env,
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError("%s %s failed (%d): %s" % (self.binary, " ".join(args), done.returncode,
                                                           done.stderr))
        return done.stdout

    def add_user(self, email):
        """The client config (protocol section 2) of a new user."""
        return json.loads(self.run("user", "add", email))

    def __enter__(self):
        self.process = subprocess.Popen(
            [self.binary, "--database", self.database, "serve", "--listen", "127.0.0.1:0", "--quiet"],
            env=self.env, stderr=subprocess.PIPE, text=True)
        # The first line says where it listens (its stderr is read until then only).
        line = self.process.stderr.readline()
        match = re.search(r"listening on (http://\S+/)", line)
        if not match:
            self.process.kill()
            rest = self.process.stderr.read()
            raise RuntimeError("schedy-server did not start: %s%s" % (line, rest))
        self.root = match.group(1)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            rc = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self.process.stderr.close()
        self.dir.cleanup()
        if exc[0] is None and rc != 0:
            raise RuntimeError("schedy-server exited with %d on SIGTERM" % rc)
        return False
