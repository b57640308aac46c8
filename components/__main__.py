"""Entry of the source-based plugin package: hosts BatchArrayPipeline for TypeScript, Go, .NET, Java
and YAML programs (`pulumi package add <repo>/components`). Not a stack program: the repo root's
`__main__.py` is that.

The package name and version below become the consumers' SDK name (`batcharray`) and version; the
name must equal the first part of the component's type token.
"""

import sys
from pathlib import Path

# The CLI runs this file with `components/` itself on sys.path, but the component's modules import
# each other as `components.*` and read the notifier code from the sibling `handler/` folder: put
# the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host

from components.pipeline import TYPE_TOKEN, BatchArrayPipeline

PACKAGE_NAME = TYPE_TOKEN.split(":", 1)[0]
PACKAGE_VERSION = "0.1.0"

if __name__ == "__main__":
    component_provider_host(components=[BatchArrayPipeline], name=PACKAGE_NAME, version=PACKAGE_VERSION)
