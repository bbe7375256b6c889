package io.kvmfilter.filter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP over a plain socket, for what HTTP clients hide: when each body byte arrived, a body cut short of its
 * Content-Length (a client library throws instead of returning what came), a request that announces a body it
 * never sends.
 */
final class RawHttp {

    /**
     * @param status         the status code
     * @param headers        lower-case names, the last value of each
     * @param body           every byte after the head until the server closed the connection
     * @param firstBodyNanos when the first body byte arrived (System.nanoTime), 0 when none came
     * @param endNanos       when the connection closed
     */
    record Answer(int status, Map<String, String> headers, byte[] body, long firstBodyNanos, long endNanos) {
    }

    /** The head of an answer: its status, and its header fields (lower-case names, the last value of each). */
    record Head(int status, Map<String, String> headers) {
    }

    private RawHttp() {
    }

    /** Reads an answer's head, up to and with the empty line, byte by byte (nothing of what follows). */
    static Head readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed inside the head: " + head);
            }
            head.write(b);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
        }
        return new Head(Integer.parseInt(lines[0].split(" ")[1]), headers);
    }

    static Answer get(int port, String path) throws IOException {
        return send(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    }

    /** Sends `request` (request line and header fields, ending with an empty line) and nothing more. */
    static Answer send(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            Head head = readHead(in);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            long first = 0;
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                if (first == 0 && n > 0) {
                    first = System.nanoTime();
                }
                body.write(buffer, 0, n);
            }
            return new Answer(head.status(), head.headers(), body.toByteArray(), first, System.nanoTime());
        }
    }
}
