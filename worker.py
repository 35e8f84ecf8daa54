"""Task worker Lambda entry (`worker.handler`): the same product as `handler.py`, run for one task event.

The API function invokes it asynchronously with a task id; see `app.tasks.worker`.
"""

from app.main import build_product

handler = build_product().task_worker()
