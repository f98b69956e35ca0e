module flotilla/pause

go 1.22
