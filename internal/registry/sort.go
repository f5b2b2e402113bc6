package registry

import "sort"

func sortStrings(s []string) { sort.Strings(s) }

// after returns the part of sorted keys strictly after p.After, at most p.Limit long.
func after(keys []string, p Page) []string {
	i := sort.SearchStrings(keys, p.After)
	if p.After != "" && i < len(keys) && keys[i] == p.After {
		i++
	}
	keys = keys[i:]
	if len(keys) > p.Limit {
		keys = keys[:p.Limit]
	}
	return keys
}
