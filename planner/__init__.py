"""planner: plan e-KTP outreach (jemput bola) for a Disdukcapil office.

The public API re-exports the stage functions so notebooks can run a whole plan or any stage.
"""

__version__ = "0.1.0"
