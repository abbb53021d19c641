"""Sphinx configuration of the skgd documentation.

Builds offline: nothing is fetched (no intersphinx, no remote images), and
the gallery examples only use data shipped with scikit-learn or generated on
the spot. ``make html`` turns every warning into an error.
"""

import importlib
import inspect
import os
import re
import sys
import warnings
from datetime import date

from docutils import nodes
from sphinx import addnodes

# Prefer the working tree's package over an installed copy.
sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))

import skgd  # noqa: E402

project = "skgd"
author = "the skgd developers"
copyright = f"{date.today().year}, {author}"
version = release = skgd.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "switching_table",
]

# MathJax from a local copy when sphinx-mathjax-offline is installed, so that
# the pages render their maths without a network; otherwise from its CDN.
try:
    importlib.import_module("sphinx-mathjax-offline")
except ImportError:
    pass
else:
    extensions.append("sphinx-mathjax-offline")

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

# --- API pages -----------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
# The class template lists the methods itself; numpydoc's own member tables
# would list every inherited scikit-learn method a second time.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# --- gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every example runs at build time except the dask one, which starts a
    # LocalCluster (worker processes, seconds of start-up): its page shows
    # the code and offers the script for download, without output.
    "filename_pattern": r"/plot_(?!dask)",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skgd",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skgd": None},
    "remove_config_comments": True,
    "show_memory": False,
    "download_all_examples": False,
    "plot_gallery": "True",
}

# --- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skgd {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": True,
    # The gallery's code and figures need the width more than a page outline.
    "secondary_sidebar_items": {
        "auto_examples/*": [],
        "gen_modules/*": [],
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# Single pages have no section to navigate: give their width to the text.
html_sidebars = {page: [] for page in ("index", "user_guide", "switching", "api")}
html_show_sourcelink = False

# Matplotlib in the gallery: no GUI, and no warnings about it.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore", category=UserWarning, message="FigureCanvasAgg is non-interactive"
)


# --- :paramref:`skgd.GDRegressor.solver` -----------------------------------------
def paramref_role(name, rawtext, text, lineno, inliner, options=None, content=()):
    """Link a parameter name to its estimator's page, failing on unknown names.

    ``:paramref:`~skgd.GDRegressor.solver``` renders as ``solver`` and
    ``:paramref:`skgd.GDRegressor.solver``` as ``GDRegressor.solver``, both
    linked to :class:`skgd.GDRegressor`. The build fails if the estimator has
    no such parameter, so the user guide cannot drift from the code.
    """
    short = text.startswith("~")
    target = text.lstrip("~")
    owner, _, param = target.rpartition(".")
    module, _, cls_name = owner.rpartition(".")
    cls = getattr(sys.modules.get(module) or __import__(module), cls_name, None)
    if cls is None or param not in inspect.signature(cls).parameters:
        message = inliner.reporter.error(
            f"paramref: {owner} has no parameter {param!r}", line=lineno
        )
        problem = inliner.problematic(rawtext, rawtext, message)
        return [problem], [message]
    node = addnodes.pending_xref(
        rawtext, refdomain="py", reftype="class", reftarget=owner,
        refexplicit=True, refwarn=True,
    )  # fmt: skip
    title = param if short else f"{cls_name}.{param}"
    node += nodes.literal(rawtext, title, classes=["xref", "py", "py-param"])
    return [node], []


# --- docstring fixes, until they are made in the source ---------------------------
# 1. The estimators' docstrings are raw strings (for their maths), in which a
#    trailing backslash does not join lines: numpydoc then reads the second half
#    of a long "name : type" line as a new parameter and mangles the list.
# 2. A bare fitted-attribute name in a shape (``(n_features_in_,)``,
#    ``(n_iter_,)``) is a reStructuredText link reference.
# Both hooks are no-ops once the docstrings are fixed.
_TYPE_LINE = re.compile(r"^\s*\w+ : .*\\$")


def fix_docstring(app, what, name, obj, options, lines):
    i = 0
    while i < len(lines) - 1:
        if _TYPE_LINE.match(lines[i]):
            lines[i] = lines[i][:-1] + lines.pop(i + 1).lstrip()
        else:
            i += 1
    for i, line in enumerate(lines):
        lines[i] = re.sub(r"(?<![`\w])([a-z]\w*_)(?=,\))", r"`\1`", line)


def allow_missing_gallery_figures(app, config):
    """``make html-noplot`` runs no example, so the gallery figures the user
    guide shows (``auto_examples/images/...``) do not exist: only there, a
    missing image is not an error."""
    if str(config.plot_gallery).lower() in ("0", "false"):
        config.suppress_warnings = [*config.suppress_warnings, "image.not_readable"]


def setup(app):
    app.add_role("paramref", paramref_role)
    app.connect("config-inited", allow_missing_gallery_figures)
    # Before numpydoc parses the docstring (its listener has priority 500).
    app.connect("autodoc-process-docstring", fix_docstring, priority=400)
