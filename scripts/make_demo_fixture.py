"""Write catalog/fixtures/demo-catalog.jsonl.gz: a sample of the Debian catalog.

Keeps the well-known applications people look for, every package of the
sections end users browse, and a seeded random sample of the rest, so that the
demo and the tests run without ../shared. Usage:
    python scripts/make_demo_fixture.py ../shared/data/debian-bookworm-packages.jsonl.gz
"""

import gzip
import json
import random
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "catalog" / "fixtures" / "demo-catalog.jsonl.gz"
SIZE = 6000
WELL_KNOWN = {
    # browsers
    "firefox-esr",
    "chromium",
    "epiphany-browser",
    "konqueror",
    "falkon",
    "lynx",
    "w3m",
    "elinks",
    "qutebrowser",
    "midori",
    "surf",
    "netsurf-gtk",
    "links2",
    "torbrowser-launcher",
    # editors and IDEs
    "vim",
    "neovim",
    "emacs",
    "nano",
    "gedit",
    "kate",
    "mousepad",
    "geany",
    "micro",
    "joe",
    "jed",
    "code-saturne",
    "pluma",
    "leafpad",
    "featherpad",
    "spyder",
    # office and documents
    "libreoffice",
    "libreoffice-writer",
    "libreoffice-calc",
    "libreoffice-impress",
    "abiword",
    "gnumeric",
    "calligra",
    "scribus",
    "evince",
    "okular",
    "zathura",
    "mupdf",
    "qpdfview",
    "xpdf",
    "atril",
    "pdfarranger",
    "calibre",
    "texstudio",
    "lyx",
    # media
    "vlc",
    "mpv",
    "totem",
    "smplayer",
    "celluloid",
    "audacious",
    "rhythmbox",
    "clementine",
    "strawberry",
    "amarok",
    "audacity",
    "ardour",
    "ffmpeg",
    "kdenlive",
    "openshot-qt",
    "obs-studio",
    "handbrake",
    "shotwell",
    "gimp",
    "inkscape",
    "krita",
    "darktable",
    "blender",
    "digikam",
    # mail and chat
    "thunderbird",
    "evolution",
    "claws-mail",
    "mutt",
    "neomutt",
    "kmail",
    "geary",
    "sylpheed",
    "pidgin",
    "hexchat",
    "irssi",
    "weechat",
    "profanity",
    "gajim",
    "dino-im",
    "quassel",
    "telegram-desktop",
    "element-desktop",
    "mumble",
    "jami",
    "linphone",
    # databases and servers
    "postgresql",
    "postgresql-15",
    "postgresql-client-15",
    "mariadb-server",
    "mariadb-client",
    "sqlite3",
    "redis-server",
    "mongodb-server",
    "memcached",
    "sqlitebrowser",
    "pgadmin3",
    "nginx",
    "apache2",
    "lighttpd",
    "caddy",
    "haproxy",
    "squid",
    "varnish",
    "tomcat10",
    "openssh-server",
    "openssh-client",
    "postfix",
    "exim4",
    "dovecot-imapd",
    "bind9",
    "samba",
    # developer tools
    "git",
    "mercurial",
    "subversion",
    "gcc",
    "g++",
    "clang",
    "make",
    "cmake",
    "meson",
    "ninja-build",
    "gdb",
    "valgrind",
    "python3",
    "python3-django",
    "python3-pip",
    "nodejs",
    "npm",
    "golang",
    "rustc",
    "cargo",
    "openjdk-17-jdk",
    "ruby",
    "php",
    "perl",
    "strace",
    "tmux",
    "screen",
    "htop",
    "curl",
    "wget",
    "rsync",
    "docker.io",
    "podman",
    "ansible",
    "shellcheck",
    # desktop and utilities
    "gnome-terminal",
    "konsole",
    "xterm",
    "terminator",
    "filezilla",
    "transmission-gtk",
    "qbittorrent",
    "keepassxc",
    "gparted",
    "synaptic",
    "nautilus",
    "dolphin",
    "thunar",
    "file-roller",
    "p7zip-full",
    "unzip",
    "zip",
    "virtualbox",
    "qemu-system-x86",
    "virt-manager",
    "wireshark",
    "nmap",
    "openvpn",
    "wireguard",
    "network-manager",
}
SECTIONS = {"web", "editors", "mail", "video", "sound", "graphics", "database", "httpd", "vcs"}


def main(source: str) -> None:
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    chosen = [r for r in records if r["name"] in WELL_KNOWN or r["section"] in SECTIONS]
    chosen_names = {r["name"] for r in chosen}
    rest = [r for r in records if r["name"] not in chosen_names]
    chosen += random.Random(42).sample(rest, max(0, SIZE - len(chosen)))
    chosen.sort(key=lambda r: r["name"])
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives the same bytes.
    with gzip.GzipFile(TARGET, "wb", mtime=0) as out:
        for record in chosen:
            out.write((json.dumps(record, ensure_ascii=False) + "\n").encode())
    print(f"wrote {len(chosen)} records to {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])
