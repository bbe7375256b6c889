package io.kvmfilter.kvm.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.Function;

/**
 * An origin for the tests of programs that fetch: the JDK's HTTP server on 127.0.0.1 at a free port (nothing else is
 * ever contacted). Shared through kvm-binding's test jar.
 */
public final class LocalOrigin {

    private LocalOrigin() {
    }

    /**
     * Starts an origin whose path (and everything below it) answers 200 with the content type and the body that
     * answer gives for the exchange. Stop it with {@code stop(0)}; its port is {@code getAddress().getPort()}.
     */
    public static HttpServer serving(String path, String contentType, Function<HttpExchange, byte[]> answer)
            throws IOException {
        HttpServer origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        origin.createContext(path, exchange -> {
            byte[] body = answer.apply(exchange);
            exchange.getResponseHeaders().add("Content-Type", contentType);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        origin.start();
        return origin;
    }
}
