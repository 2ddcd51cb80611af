module ferroflux.local/gorender

go 1.26
