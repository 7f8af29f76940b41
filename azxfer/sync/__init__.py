"""The parts of a sync (`azxfer.syncjob`) that are not the job itself: the sorted local walk,
the table of destination-only entries, MD5 hashing and caching, the journal recorder, the
delete step and the summary."""
