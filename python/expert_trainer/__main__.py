"""`python -m expert_trainer plan.json`: run a plan written by `expert-cli train --emit-plan`."""

import sys

from expert_trainer.trainer import main

sys.exit(main())
