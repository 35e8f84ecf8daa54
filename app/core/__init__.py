"""The shared base every package builds on: exceptions and refusal codes, typed environment values, the
caller, lazy names and AWS clients, the SQLite pool, DynamoDB failures, the outage log, timestamps and
synthetic Lambda events. Small, and stdlib-only unless a module says otherwise (`aws_client`,
`dynamodb_errors` touch botocore; none imports the MCP SDK or Starlette)."""
