"""fashionsim._compat.renamed: old keywords keep working with a FutureWarning; new and positional ones stay silent."""

from __future__ import annotations

import inspect
import warnings

import pytest

from fashionsim._compat import renamed


@renamed(size="image_size", random_state="seed")
def load(path: str, image_size: int, *, seed: int = 0) -> tuple[int, int]:
    """Return what arrived."""
    return image_size, seed


def test_new_and_positional_names_are_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load("a", 8) == (8, 0)
        assert load("a", image_size=8, seed=3) == (8, 3)


def test_old_names_warn_and_map_to_the_new_ones():
    with pytest.warns(FutureWarning, match=r"load\(size=\.\.\.\) is deprecated: pass image_size=\.\.\. instead"):
        assert load("a", size=8) == (8, 0)
    with pytest.warns(FutureWarning, match="random_state"):
        assert load("a", 8, random_state=5) == (8, 5)


def test_both_names_is_a_type_error():
    with pytest.raises(TypeError, match="both size= .* and image_size="):
        load("a", size=8, image_size=8)


def test_signature_and_docstring_are_the_new_ones():
    assert list(inspect.signature(load).parameters) == ["path", "image_size", "seed"]
    assert load.__doc__ == "Return what arrived."


def test_methods_can_be_decorated():
    class Model:
        @renamed(input_size="image_size")
        def __init__(self, image_size: int = 4) -> None:
            self.image_size = image_size

    with pytest.warns(FutureWarning, match=r"Model.__init__\(input_size="):
        assert Model(input_size=9).image_size == 9


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="no parameter 'image_size'"):
        renamed(size="image_size")(lambda path, size: size)
    with pytest.raises(ValueError, match="still has a parameter 'size'"):
        renamed(size="image_size")(lambda size, image_size: size)
    with pytest.raises(ValueError, match="distinct"):
        renamed(size="size")
