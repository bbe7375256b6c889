module kvmfilter.io/sdk

go 1.19
