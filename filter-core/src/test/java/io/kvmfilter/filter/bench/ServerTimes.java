package io.kvmfilter.filter.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Records, inside the server, how long each request of one path took from its first byte to its last, with the
 * moment it began and the filter's diagnostic header: says which responses of a flood were slow and why (a
 * client's latencies alone cannot tell waiting for a program from waiting for a CPU or the network).
 */
final class ServerTimes extends Handler.Wrapper {

    /** One request: when it began (ns since the last clear), how long it took, what the filter said. */
    record Time(long beganNanos, long tookNanos, String outcome) {
    }

    private final String path;
    private volatile long origin = System.nanoTime();
    private final ConcurrentLinkedQueue<Time> times = new ConcurrentLinkedQueue<>();

    ServerTimes(String path, Handler handler) {
        super(handler);
        this.path = path;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (!path.equals(Request.getPathInContext(request))) {
            return super.handle(request, response, callback);
        }
        long began = request.getBeginNanoTime();
        Callback recording = new Callback() {
            @Override
            public void succeeded() {
                record();
                callback.succeeded();
            }

            @Override
            public void failed(Throwable x) {
                record();
                callback.failed(x);
            }

            @Override
            public InvocationType getInvocationType() {
                return callback.getInvocationType();
            }

            private void record() {
                String outcome = response.getHeaders().get("X-KVM-Transform");
                times.add(new Time(began - origin, System.nanoTime() - began, outcome == null ? "-" : outcome));
            }
        };
        return super.handle(request, response, recording);
    }

    /** Forgets what was recorded so far (the requests before the measurement); times count from now. */
    void clear() {
        origin = System.nanoTime();
        times.clear();
    }

    /** The slowest {@code count} requests, slowest first. */
    List<Time> slowest(int count) {
        List<Time> all = new ArrayList<>(times);
        all.sort(Comparator.comparingLong(Time::tookNanos).reversed());
        return all.subList(0, Math.min(count, all.size()));
    }

    /** How many requests took longer than {@code nanos}, and how many were recorded. */
    long[] over(long nanos) {
        long over = 0;
        long all = 0;
        for (Time t : times) {
            all++;
            if (t.tookNanos() > nanos) {
                over++;
            }
        }
        return new long[] {over, all};
    }
}
