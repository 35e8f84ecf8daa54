"""A durable, per-caller item store: the worked example for adding tools.

Layers, innermost first (each imports only the ones above it):

    model.py          values, limits, validation rules        (pure)
    cursor.py         signed pagination cursors               (pure)
    port.py           the ItemStore protocol                  (pure)
    service.py        use cases over the port                 (pure)
    sqlite_store.py   adapter: embedded SQLite, local runs
    dynamo_store.py   adapter: DynamoDB, Lambda
    config.py         ItemStoreSettings.from_env
    factory.py        build_item_store / build_item_service
    schemas.py        tool parameter types and result models  (pydantic)
    edge.py           domain errors -> tool/resource/prompt errors
    tools.py          register_item_tools (+ resources.py, prompts.py, completions.py)
    export.py         items_export: the store as one JSON document, a task when the client can

Wiring (once per process):

    settings = ItemStoreSettings.from_env()
    service = build_item_service(settings, cursor_keys=sealing.derived_keys(label))   # on Lambda: from the SSM ring
    complete_items = register_item_tools(server, lambda: service)

DynamoDB table the SAM template must create: partition key `PK` (S), sort
key `SK` (S), no indexes, on-demand billing, TTL on attribute `expires_at`.
See `dynamo_store.py` for the item layout.

Import from the modules themselves (`from app.items.tools import
register_item_tools`): this file imports nothing, so loading the pure
modules never drags in boto3 or the MCP SDK.
"""
