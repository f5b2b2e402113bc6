package postgres

// Waiting is how many updates wait for a committer, for the tests.
func (db *DB) Waiting() (n int) {
	for _, c := range db.committers {
		n += c.Waiting()
	}
	return n
}
