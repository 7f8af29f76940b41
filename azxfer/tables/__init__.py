"""Table export and import: the export layout (manifest and data files), streaming a table's
pages into data files, and verifying and importing data files in Entity Group Transactions."""
