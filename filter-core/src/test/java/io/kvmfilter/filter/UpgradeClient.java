package io.kvmfilter.filter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A client of an HTTP/1.1 upgrade over a plain socket: sends the upgrade request, reads the head, then talks the
 * upgraded protocol byte by byte. Every read has a timeout, so a server that hangs fails the test instead of
 * stalling it.
 */
final class UpgradeClient implements AutoCloseable {

    /** How long one read waits before the test fails. */
    private static final int READ_TIMEOUT_MS = 15_000;

    private final Socket socket;
    private final InputStream in;
    private int status;
    private final Map<String, String> headers = new LinkedHashMap<>();

    private UpgradeClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    /** Connects and sends {@code GET path} with {@code Connection: Upgrade} and {@code Upgrade: protocol}; reads the head. */
    static UpgradeClient upgrade(int port, String path, String protocol) throws IOException {
        return upgrade(port, path, protocol, "");
    }

    /**
     * As {@link #upgrade(int, String, String)}, with {@code early} sent in the same write right after the request,
     * before the answer: bytes of the upgraded protocol the server reads together with the request.
     */
    static UpgradeClient upgrade(int port, String path, String protocol, String early) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        UpgradeClient client = new UpgradeClient(socket);
        client.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: " + protocol
                + "\r\n\r\n" + early);
        client.readHead();
        return client;
    }

    private void readHead() throws IOException {
        RawHttp.Head head = RawHttp.readHead(in);
        status = head.status();
        headers.putAll(head.headers());
    }

    /** @return the status of the answer's head */
    int status() {
        return status;
    }

    /** @return the header's value (the last one of the name), or null */
    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** @return the local port of the client's socket: the port the server sees */
    int localPort() {
        return socket.getLocalPort();
    }

    void send(String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** Closes the client's sending side (a half-close): the server reads the end of its input. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** @return exactly n bytes as text; fails when the connection ends first or they do not come in time */
    String read(int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length < n) {
            throw new IOException("the connection ended after " + bytes.length + " of " + n + " bytes: "
                    + new String(bytes, StandardCharsets.ISO_8859_1));
        }
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** @return the text up to and with the next '\n' */
    String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            line.write(b);
            if (b == '\n') {
                return line.toString(StandardCharsets.ISO_8859_1);
            }
        }
        throw new IOException("the connection ended inside a line: " + line.toString(StandardCharsets.ISO_8859_1));
    }

    /** @return true when the server closed the connection with nothing more sent; false when a byte came */
    boolean endsWithNothingMore() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            throw new IOException("the connection is still open after " + READ_TIMEOUT_MS + " ms", e);
        } catch (IOException reset) {
            return true; // closed by a reset: nothing more came either
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
