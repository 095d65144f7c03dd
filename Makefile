# fashionsim — the two commands of the README, and the tools behind them.
#   make demo    set up, then run every notebook on the bundled (generated) demo catalog
#   make test    set up, then run the module tests and every notebook under strict nbval
# Both create .venv with the project and its dev tools when missing (Python >= 3.10).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
OUT    ?= output
STAMP  := $(VENV)/.fashionsim-installed
KERNEL := $(VENV)/.fashionsim-kernel

# Quiet TensorFlow's C++ start-up logs (strict nbval compares stderr) and stay on the CPU.
export TF_CPP_MIN_LOG_LEVEL  ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 0
export CUDA_VISIBLE_DEVICES  ?= -1
export KERAS_BACKEND         ?= tensorflow
export PYTHONHASHSEED        ?= 0
# The demo catalog lives in one place, shared by `make demo`, `make test`, the notebooks and the
# `fashionsim` command: $FASHIONSIM_DATA_DIR/demo when that is set (e.g. `make test
# FASHIONSIM_DATA_DIR=$(CURDIR)/data`), else the user cache dir (~/.cache/fashionsim/demo on Linux,
# honouring XDG_CACHE_HOME). `fashionsim demo-data` prints where it is.

NOTEBOOKS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)

.PHONY: demo test bench notebooks install clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# JupyterLab: the venv's "python3" kernel starts with TensorFlow's C++ start-up lines silenced or
# kept out of the notebook (they are written to file descriptor 2 at import, before anything in a
# cell applies; with fd capture off they go to JupyterLab's terminal log instead of a pink box), and
# the file browser lists each notebook once (its .py twin NN_name.py is hidden; open the .ipynb).
$(KERNEL): $(STAMP)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" \
	  --env TF_CPP_MIN_LOG_LEVEL 3 --env TF_ENABLE_ONEDNN_OPTS 0
	$(PY) -c "import json, pathlib, sys; p = pathlib.Path(sys.prefix, 'share/jupyter/kernels/python3/kernel.json'); \
	  k = json.loads(p.read_text()); flag = '--IPKernelApp.capture_fd_output=False'; \
	  k['argv'] += [flag] * (flag not in k['argv']); p.write_text(json.dumps(k, indent=1))"
	$(PY) -c "import json, pathlib, sys; p = pathlib.Path(sys.prefix, 'etc/jupyter/jupyter_server_config.json'); \
	  c = json.loads(p.read_text()) if p.exists() else {}; c.setdefault('ContentsManager', {})['hide_globs'] = \
	  ['__pycache__', '*.pyc', '*.pyo', '.DS_Store', '*~', '[0-9][0-9]_*.py']; p.parent.mkdir(parents=True, exist_ok=True); \
	  p.write_text(json.dumps(c, indent=1))"
	@touch $@

install: $(STAMP) $(KERNEL)

demo: $(STAMP) $(KERNEL)
	$(PY) -m fashionsim demo-data --contact-sheet $(OUT)/figures/demo_contact_sheet.png
	$(PY) tools/run_notebooks.py --out $(OUT)/notebooks
	@echo "Executed notebooks: $(OUT)/notebooks/   their figures: $(OUT)/notebooks/figures/   demo contact sheet: $(OUT)/figures/demo_contact_sheet.png"

test: $(STAMP) $(KERNEL)
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "notebooks/ holds no notebook yet: running the module tests only"
	$(PY) -m pytest tests
else
	$(PY) -m pytest tests --nbval --nbval-current-env notebooks
endif

bench: $(STAMP)
	$(PY) -m fashionsim bench $(BENCH_ARGS)

# Re-sync every .py twin into its .ipynb and execute it in place (after editing a notebook).
notebooks: $(STAMP) $(KERNEL)
	$(PY) tools/run_notebooks.py

clean:
	rm -rf $(OUT) artifacts .pytest_cache
