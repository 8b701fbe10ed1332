#!/usr/bin/env python3
"""Builds the Debian package with cpack, checks what is in it, extracts it into
a throwaway root and runs what it installed there: schedy-server on a fresh
SQLite database answering HTTP on 127.0.0.1, and the dashboard starting
offscreen and connecting to its embedded server. In CI (CI=true, as root) it
also installs the package for real, runs the installed server, purges the
package and checks that nothing of it is left behind.

    tst_package.py BUILD_DIR SOURCE_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
from server_fixture import Server  # noqa: E402

PROGRAMS = ["schedy-server", "schedy-dashboard", "schedy"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run(*args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(args), done.returncode, done.stdout,
                                                       done.stderr))
    return done.stdout


def build_package(build_dir, out):
    run("cpack", "-G", "DEB", "-B", out, "--config", os.path.join(build_dir, "CPackConfig.cmake"))
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    ddebs = [f for f in os.listdir(out) if f.endswith(".ddeb")]
    check(len(debs) == 1 and len(ddebs) == 1, "expected one .deb and one .ddeb, got %s" % os.listdir(out))
    return os.path.join(out, debs[0]), os.path.join(out, ddebs[0])


def field(deb, name):
    return run("dpkg-deb", "-f", deb, name).strip()


def check_control(deb, ddeb, version):
    check(field(deb, "Package") == "schedy" and field(deb, "Version") == version,
          "package schedy %s expected" % version)
    depends = [d.strip() for d in re.split(r"[,|]", re.sub(r"\([^)]*\)", "", field(deb, "Depends")))]
    # Qt loads these as plugins: dpkg-shlibdeps cannot see them.
    for plugin_package in ["libqt6sql6-sqlite", "libqt6svg6", "libssl3"]:
        check(plugin_package in depends, "Depends lacks %s: %s" % (plugin_package, depends))
    for needed in ["libqt6core6", "libqt6widgets6", "libqt6sql6", "libqt6httpserver6"]:
        check(any(d.startswith(needed) for d in depends), "shlibdeps found no %s: %s" % (needed, depends))
    check("libqt6sql6-psql" in field(deb, "Recommends"), "Recommends lacks libqt6sql6-psql")
    check(field(deb, "Section") == "science", "Section: %s" % field(deb, "Section"))
    description = field(deb, "Description")
    for word in PROGRAMS:
        check(word in description, "the description does not mention %s" % word)
    check(field(ddeb, "Package") == "schedy-dbgsym", "the debug package is %s" % field(ddeb, "Package"))


def contents(deb):
    return sorted(line.split()[-1].lstrip(".") for line in run("dpkg-deb", "-c", deb).splitlines()
                  if not line.startswith("d"))


def check_contents(deb, ddeb, root):
    files = contents(deb)
    expected = ["/usr/bin/" + p for p in PROGRAMS] + \
               ["/usr/share/man/man1/%s.1.gz" % p for p in PROGRAMS] + \
               ["/usr/share/applications/org.schedy.Schedy.desktop",
                "/usr/share/metainfo/org.schedy.Schedy.metainfo.xml",
                "/usr/share/icons/hicolor/scalable/apps/org.schedy.Schedy.svg",
                "/usr/lib/systemd/system/schedy-server.service",
                "/usr/lib/systemd/system/schedy-server@.service",
                "/usr/share/doc/schedy/protocol.md"]
    for path in expected:
        check(path in files, "%s is not in the package" % path)
    for p in PROGRAMS:
        sections = run("readelf", "-S", "-W", os.path.join(root, "usr/bin", p))
        check(".debug_info" not in sections and ".symtab" not in sections, "%s is not stripped" % p)
    debug = [f for f in contents(ddeb) if f.startswith("/usr/lib/debug/.build-id/") and f.endswith(".debug")]
    check(len(debug) == len(PROGRAMS), "schedy-dbgsym holds %d debug files: %s" % (len(debug), debug))


def check_server(binary, env):
    """The server starts on a fresh SQLite database and answers HTTP on 127.0.0.1."""
    check(run(binary, "--version", env=env).startswith("schedy-server "), "schedy-server --version")
    with Server(binary, env) as server:
        config = server.add_user("package@example.com")
        login = urllib.request.Request(server.root + "token/", method="POST", data=json.dumps(
            {"email": config["email"], "token": config["token"]}).encode())
        with urllib.request.urlopen(login, timeout=30) as answer:
            bearer = json.load(answer)["token"]
        listing = urllib.request.Request(server.root + "experiments/",
                                         headers={"Authorization": "Bearer " + bearer})
        with urllib.request.urlopen(listing, timeout=30) as answer:
            check(answer.status == 200 and json.load(answer) == {"items": [], "next": None},
                  "a fresh database lists no experiment")


def check_missing_driver(root, env):
    """Without Qt's PostgreSQL driver (Recommends only) the server names the package to install."""
    plugins = os.path.join(root, "only-sqlite-plugins", "sqldrivers")
    os.makedirs(plugins)
    sqlite = run("sh", "-c", "ls /usr/lib/*/qt6/plugins/sqldrivers/libqsqlite.so").split()[0]
    os.symlink(sqlite, os.path.join(plugins, "libqsqlite.so"))
    qt_conf = os.path.join(root, "usr", "bin", "qt.conf")  # read from the program's directory
    with open(qt_conf, "w") as f:
        f.write("[Paths]\nPlugins=%s\n" % os.path.dirname(plugins))
    try:
        done = subprocess.run([os.path.join(root, "usr/bin/schedy-server"), "--database",
                               "postgresql://schedy@127.0.0.1:1/schedy", "user", "add", "a@example.com"],
                              env=env, capture_output=True, text=True, timeout=60)
    finally:
        os.remove(qt_conf)
    check(done.returncode == 1 and "install the package libqt6sql6-psql" in done.stderr,
          "missing PostgreSQL driver: exit %d, %s" % (done.returncode, done.stderr))


def check_dashboard(binary, env):
    """The dashboard starts offscreen and connects to its embedded server (SQLite driver and all)."""
    with tempfile.TemporaryDirectory(prefix="schedy-dashboard-home-") as home:
        env = dict(env, HOME=home, XDG_CONFIG_HOME=home + "/config", XDG_DATA_HOME=home + "/data",
                   QT_QPA_PLATFORM="offscreen")
        output = run(binary, "--self-test", env=env, timeout=120)
        check("connected" in output and "not connected" not in output, "dashboard self-test: " + output)
        check(run(binary, "--version", env=env).strip().endswith(VERSION), "dashboard --version")


def check_man_pages(root):
    for p in PROGRAMS:
        page = run("gzip", "-dc", os.path.join(root, "usr/share/man/man1/%s.1.gz" % p))
        check(".SH NAME" in page and ".SH DESCRIPTION" in page, "%s(1) is not a manual page" % p)
        help_text = run(os.path.join(root, "usr/bin", p), "--help",
                        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        # Every option of the program's --help, as help2man writes it (with '\\-').
        for option in set(re.findall(r"--[a-z][a-z-]+", help_text)):
            check(option.replace("-", "\\-") in page, "%s(1) lacks %s of its --help" % (p, option))


def true_install(deb, ddeb):
    """Installs the package for real, runs it, purges it: nothing may be left."""
    check(subprocess.run(["dpkg", "-s", "schedy"], capture_output=True).returncode != 0,
          "schedy is already installed on this machine: remove it first")
    files = contents(deb) + contents(ddeb)
    run("dpkg", "-i", deb, ddeb)
    try:
        check_server("/usr/bin/schedy-server", dict(os.environ))
        check(run("man", "-w", "schedy-server").strip().endswith("schedy-server.1.gz")
              if shutil.which("man") else True, "man finds schedy-server")
        if shutil.which("systemd-analyze"):
            # The template is verified as an instance of it, named so in a directory of its own.
            with tempfile.TemporaryDirectory() as units:
                instance = os.path.join(units, "schedy-server@8081.service")
                shutil.copy("/usr/lib/systemd/system/schedy-server@.service", instance)
                run("systemd-analyze", "verify", "/usr/lib/systemd/system/schedy-server.service", instance)
    finally:
        run("dpkg", "--purge", "schedy", "schedy-dbgsym")
    left = [f for f in files if os.path.lexists(f)]
    check(not left, "left behind after purge: %s" % left)
    check(not os.path.exists("/usr/share/doc/schedy"), "/usr/share/doc/schedy is left behind")
    print("installed, ran, purged: nothing left of %d files" % len(files))


def main():
    global VERSION
    build_dir, source_dir = sys.argv[1], sys.argv[2]
    VERSION = re.search(r"project\(Schedy VERSION ([0-9.]+)",
                        open(os.path.join(source_dir, "CMakeLists.txt")).read()).group(1)
    with tempfile.TemporaryDirectory(prefix="schedy-package-") as tmp:
        deb, ddeb = build_package(build_dir, os.path.join(tmp, "out"))
        print("built", os.path.basename(deb), "%.1f MB" % (os.path.getsize(deb) / 1e6), os.path.basename(ddeb))
        check_control(deb, ddeb, VERSION)
        root = os.path.join(tmp, "root")
        run("dpkg-deb", "-x", deb, root)
        check_contents(deb, ddeb, root)
        check_man_pages(root)
        env = dict(os.environ)
        check_server(os.path.join(root, "usr/bin/schedy-server"), env)
        check_missing_driver(root, env)
        check_dashboard(os.path.join(root, "usr/bin/schedy-dashboard"), env)
        print("extracted package: server answers, dashboard connects")
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            true_install(deb, ddeb)
        else:
            print("not CI as root: no true install")


if __name__ == "__main__":
    main()
