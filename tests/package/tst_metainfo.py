#!/usr/bin/env python3
"""The AppStream metainfo says what the package holds: its id is the .desktop
file's, its launchable exists, every screenshot is an image of the
repository's docs/screenshots/, and its newest release is this version.

    tst_metainfo.py METAINFO SOURCE_DIR VERSION APP_ID
"""

import os
import sys
import xml.etree.ElementTree as ET


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    metainfo, source_dir, version, app_id = sys.argv[1:5]
    root = ET.parse(metainfo).getroot()
    check(root.findtext("id") == app_id, "id %s, expected %s" % (root.findtext("id"), app_id))
    launchable = root.findtext("launchable")
    check(launchable == app_id + ".desktop", "launchable: %s" % launchable)
    check(os.path.exists(os.path.join(source_dir, "packaging", launchable)), "no packaging/%s" % launchable)
    images = [i.text for i in root.iter("image")]
    check(images, "no screenshots")
    for url in images:
        check(url.startswith("https://") and "/docs/screenshots/" in url, "screenshot URL %s" % url)
        path = os.path.join(source_dir, "docs", "screenshots", url.rsplit("/", 1)[1])
        check(os.path.isfile(path), "screenshot %s is not in docs/screenshots/" % url)
    releases = [(r.get("version"), r.get("date")) for r in root.iter("release")]
    check(releases and releases[0][0] == version, "newest release %s, expected %s" % (releases[:1], version))
    check(all(date for _, date in releases), "every release has a date: %s" % releases)
    check(root.find("content_rating") is not None, "no content rating")
    print("%s: %d screenshots in docs/screenshots, release %s of %s" % (app_id, len(images), *releases[0]))


if __name__ == "__main__":
    main()
