"""expert-cli's Python trainer: trains the peft adapter a plan from `expert-cli train` describes.

The trainer lives in `expert_trainer.trainer`; this package file imports nothing so that expert-cli
can register both modules from its embedded copies without a file system.
"""

__version__ = "0.1.0"
