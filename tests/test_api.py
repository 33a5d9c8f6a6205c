"""The library's public face: what `import nnlib` loads, and that everything public is documented."""

import importlib
import inspect
import subprocess
import sys

import pytest

import nnlib

MODULES = ["core", "layers", "activations", "losses", "optim", "schedulers", "train", "data", "gradcheck",
           "surfaces", "plots", "widgets"]


def test_importing_nnlib_loads_no_plotting_or_widget_library():
    code = ("import sys, nnlib; heavy = sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('matplotlib', 'ipywidgets', 'IPython')); print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all_and_documents_every_public_name(name):
    module = importlib.import_module(f"nnlib.{name}")
    assert module.__doc__, f"nnlib.{name} has no module docstring"
    assert hasattr(module, "__all__"), f"nnlib.{name} declares no __all__"
    for public in module.__all__:
        obj = getattr(module, public)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"nnlib.{name}.{public} has no docstring"
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        assert inspect.getdoc(member), f"nnlib.{name}.{public}.{attr} has no docstring"


def test_package_re_exports_exist():
    for public in nnlib.__all__:
        assert hasattr(nnlib, public), public
