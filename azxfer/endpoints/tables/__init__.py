"""Azure Table storage: the Table REST requests azxfer sends (Query Entities with continuation,
Create Table, Entity Group Transactions), the service's error codes, and the JSON form entities
take in export files. Sending, signing, retries and classification are `transport.rest`'s."""
