# The kvmfilter Jetty module: docs/jetty-distribution.md.

[description]
Pipes the responses of every ee10 web application through kvmfilter (io.kvmfilter.filter.KvmFilter): JPEG and
PNG converted to AVIF or WebP as the client accepts, text minified, or any program of a program library, each run
in its own KVM virtual machine. Needs /dev/kvm readable and writable by Jetty's user.

[tags]
kvmfilter
filter

[environment]
ee10

[depend]
ee10-deploy

[lib]
lib/kvmfilter/*.jar

[xml]
etc/kvmfilter.xml

[ini-template]
# tag::ini-template[]
## kvmfilter: the filter parameters of docs/configuration.md for every web application. A web application's own
## kvmfilter.<parameter> context-param wins over these; system properties and environment variables
## (KVMFILTER_MAXBODYSIZE...) win over both.

## Which programs run for which responses.
# kvmfilter.rules=image/jpeg, image/png -> image/avif: avif, image/webp: webp

## Paths never transformed, e.g. downloads.
# kvmfilter.excludedPaths=/downloads/*

## Largest body buffered and transformed; larger ones stream through untouched.
# kvmfilter.maxBodySize=8MiB

## Bytes of transformed results kept in memory per web application; 0 turns the cache off.
# kvmfilter.cacheSize=32MiB

## The programs' time limit per request, and how long a request waits for a free instance.
# kvmfilter.timeout=5s
# kvmfilter.queueTimeout=1s

## A program library JSON (file: or classpath: URI) merged over the bundled programs.
# kvmfilter.library=file:/etc/kvmfilter/programs.json

## Also: kvmfilter.includedPaths, includedMimeTypes, excludedMimeTypes, includedMethods, excludedMethods,
## statuses, minBodySize, maxPixels, headAsGet, variantsForWildcards, requireSmaller, diagnosticHeader,
## programSettings.

## Mount the statistics servlet (JSON) at this path in every web application; not mounted when unset.
# kvmfilter.statsPath=/_kvm/stats
# end::ini-template[]
