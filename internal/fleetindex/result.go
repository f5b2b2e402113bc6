package fleetindex

// Result is one page of a search: the documents the query matched, in name
// order, and the token of the next page ("" on the last). Things are
// filled for the AWS_Things index, Groups for AWS_ThingGroups.
type Result struct {
	Things []Found
	Groups []ThingGroup
	Next   string
}

// Found is a thing a search matched, with its indexed shadows as the
// "shadow" member of AWS's answer shows them (JSON; "" for none).
type Found struct {
	Thing
	Shadow string
}
