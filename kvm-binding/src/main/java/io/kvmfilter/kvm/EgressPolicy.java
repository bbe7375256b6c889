package io.kvmfilter.kvm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where a program may fetch from with {@code sys_fetch} (the library key {@code egress}). A program without one
 * cannot fetch at all. The sandbox core enforces it for every hop of every fetch: the URL's scheme, host and port
 * must be listed, and each connection's address must be public unless {@code addresses} lists its range (private,
 * loopback, link-local and metadata addresses are refused otherwise, whatever name led to them). See
 * docs/security.md.
 *
 * @param hosts host names the program may fetch from: {@code example.com}, {@code *.example.com} (its subdomains),
 *     {@code *} (any public host), or IP addresses; at least one
 * @param schemes {@code http} and/or {@code https}; empty: both
 * @param ports ports; empty: 80 and 443
 * @param addresses non-public addresses or ranges the program may still reach ({@code 10.0.0.0/8}, {@code ::1})
 * @param maxResponseSize bytes of one fetched body at most (the request's memory bounds it too)
 * @param maxConcurrent fetches of the program running at once; one more is refused with -EAGAIN
 * @param maxTime time all fetches of one request may take together; zero: the request's own time limit
 * @param maxRedirects redirects followed at most (when the program asks to follow them)
 * @param insecureTls a program's {@code dont_verify_host} is honoured; otherwise TLS is always verified
 */
public record EgressPolicy(
        List<String> hosts,
        List<String> schemes,
        List<Integer> ports,
        List<String> addresses,
        long maxResponseSize,
        int maxConcurrent,
        Duration maxTime,
        int maxRedirects,
        boolean insecureTls) {

    /** The defaults of the core: 16 MiB per body, 8 fetches at once, the request's time, 5 redirects. */
    public static final long DEFAULT_MAX_RESPONSE_SIZE = 16L << 20;
    /** Default of {@link #maxConcurrent()}. */
    public static final int DEFAULT_MAX_CONCURRENT = 8;
    /** Default of {@link #maxRedirects()}. */
    public static final int DEFAULT_MAX_REDIRECTS = 5;

    /** Checks that no component is null and copies the lists. */
    public EgressPolicy {
        hosts = List.copyOf(hosts);
        schemes = List.copyOf(schemes);
        ports = List.copyOf(ports);
        addresses = List.copyOf(addresses);
        Objects.requireNonNull(maxTime, "maxTime");
    }

    /**
     * @param hosts the hosts a program may fetch from
     * @return a policy for those hosts with the defaults for everything else
     */
    public static EgressPolicy forHosts(List<String> hosts) {
        return new EgressPolicy(hosts, List.of(), List.of(), List.of(), DEFAULT_MAX_RESPONSE_SIZE,
                DEFAULT_MAX_CONCURRENT, Duration.ZERO, DEFAULT_MAX_REDIRECTS, false);
    }

    /** @return the policy as the core reads it (kvmf_config.egress): one "key=value" string per setting */
    List<String> entries() {
        List<String> out = new ArrayList<>();
        out.add("hosts=" + String.join(",", hosts));
        if (!schemes.isEmpty()) {
            out.add("schemes=" + String.join(",", schemes));
        }
        if (!ports.isEmpty()) {
            out.add("ports=" + String.join(",", ports.stream().map(String::valueOf).toList()));
        }
        if (!addresses.isEmpty()) {
            out.add("addresses=" + String.join(",", addresses));
        }
        out.add("max_response_size=" + maxResponseSize);
        out.add("max_concurrent=" + maxConcurrent);
        out.add("max_time_ms=" + maxTime.toMillis());
        out.add("max_redirects=" + maxRedirects);
        out.add("insecure_tls=" + (insecureTls ? 1 : 0));
        return out;
    }
}
