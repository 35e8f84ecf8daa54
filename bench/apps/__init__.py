"""Lambda handler modules under benchmark.

Each module builds its `handler(event, context)` at import time, as a Lambda
handler module does, so importing it is what a cold start pays.
"""
