package io.kvmfilter.kvm;

import java.util.List;
import java.util.Objects;

/**
 * One request to a program. A request with a body is delivered to the program's POST handler, one
 * without to its GET handler (a program with the generic handler gets both there, with the headers).
 * The body array is not copied: do not change it while a call runs.
 *
 * @param method the HTTP method, e.g. "GET"
 * @param url the request URL or path, e.g. "/images/cat.jpg"
 * @param arg the program argument (the VMOD's second argument); "" when none
 * @param contentType the body's content type; "" when none
 * @param body the request body, or null for none
 * @param headers request headers as "Name: value" lines (no line breaks inside)
 * @param selfRequests answers the programs' self-requests (sys_request) during this call, or null: refused
 */
public record Request(String method, String url, String arg, String contentType, byte[] body, List<String> headers,
        SelfRequests selfRequests) {

    /** A request whose programs' self-requests are refused; the components as in the record's. */
    public Request(String method, String url, String arg, String contentType, byte[] body, List<String> headers) {
        this(method, url, arg, contentType, body, headers, null);
    }

    /**
     * Checks the components; null arg, contentType and headers become empty.
     *
     * @throws IllegalArgumentException when a text contains a NUL character or a header a line break
     */
    public Request {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(url, "url");
        if (method.isEmpty()) {
            throw new IllegalArgumentException("Request method is empty; give e.g. \"GET\" or \"POST\"");
        }
        arg = arg == null ? "" : arg;
        contentType = contentType == null ? "" : contentType;
        headers = headers == null ? List.of() : List.copyOf(headers);
        requireNoNul("method", method);
        requireNoNul("url", url);
        requireNoNul("arg", arg);
        requireNoNul("contentType", contentType);
        for (String header : headers) {
            if (header.indexOf('\n') >= 0 || header.indexOf('\r') >= 0 || header.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("Request header \"" + header.strip()
                        + "\" contains a line break or NUL; give one \"Name: value\" per list element");
            }
        }
    }

    /** @return a GET request for url, with no argument */
    public static Request get(String url) {
        return new Request("GET", url, "", "", null, List.of());
    }

    /** @return a POST request for url carrying body (not copied) of the given content type */
    public static Request post(String url, String contentType, byte[] body) {
        return new Request("POST", url, "", contentType, Objects.requireNonNull(body, "body"), List.of());
    }

    /** @return this request with the program argument arg */
    public Request withArg(String arg) {
        return new Request(method, url, arg, contentType, body, headers, selfRequests);
    }

    /** @return this request with the given headers ("Name: value" each) */
    public Request withHeaders(List<String> headers) {
        return new Request(method, url, arg, contentType, body, headers, selfRequests);
    }

    /** @return this request with its programs' self-requests answered by handler (null: refused) */
    public Request withSelfRequests(SelfRequests handler) {
        return new Request(method, url, arg, contentType, body, headers, handler);
    }

    private static void requireNoNul(String what, String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("Request " + what + " contains a NUL character, which C strings cannot carry");
        }
    }

    @Override
    public String toString() {
        return "Request[" + method + " " + url + (arg.isEmpty() ? "" : " arg=" + arg)
                + (body == null ? "" : " " + contentType + " " + body.length + " bytes") + "]";
    }
}
