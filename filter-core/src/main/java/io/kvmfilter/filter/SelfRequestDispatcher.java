package io.kvmfilter.filter;

import io.kvmfilter.kvm.SelfRequests;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * A program's self-requests ({@code sys_request}) answered by the web application itself: the path is forwarded
 * through the container's RequestDispatcher (not the network), as a fresh request that carries only the
 * program's header fields and body, and the answer is captured instead of reaching the client. Filters mapped for
 * FORWARD see it; KvmFilter is mapped for REQUEST and ASYNC, so it does not transform a self-request unless its
 * mapping adds FORWARD.
 *
 * <p>Loop protection, as in the VMOD: a self-request made while answering a self-request is one level deeper, and
 * past {@code maxDepth} the program gets {@code -ELOOP}; at most {@code concurrency} run at once in the servlet
 * ({@code -EAGAIN} beyond, at once). Redirects to a path of the same application are followed when the program
 * asks, up to five.
 */
final class SelfRequestDispatcher implements SelfRequests {
    /** The request attribute that holds how deep the current request is in self-requests (absent: 0). */
    static final String DEPTH_ATTRIBUTE = "io.kvmfilter.selfRequestDepth";
    private static final int EINVAL = 22;
    private static final int MAX_REDIRECTS = 5;

    private final ServletContext context;
    private final HttpServletRequest original;
    private final HttpServletResponse response;
    private final int maxDepth;
    private final Semaphore running;

    /**
     * @param original the request whose program makes the self-requests
     * @param response its response (a self-request never writes to it)
     * @param maxDepth self-requests inside self-requests allowed
     * @param running the permits of self-requests running at once (shared by the servlet's requests)
     */
    SelfRequestDispatcher(ServletContext context, HttpServletRequest original, HttpServletResponse response,
            int maxDepth, Semaphore running) {
        this.context = context;
        this.original = original;
        this.response = response;
        this.maxDepth = maxDepth;
        this.running = running;
    }

    /** @return how deep request is in self-requests: 0 for a request from a client */
    static int depthOf(HttpServletRequest request) {
        return request.getAttribute(DEPTH_ATTRIBUTE) instanceof Integer depth ? depth : 0;
    }

    @Override
    public Answer request(Call call) throws IOException {
        int depth = depthOf(original) + 1;
        if (depth > maxDepth) {
            throw new Refusal(Refusal.ELOOP, "self-request " + call.path() + " would be " + depth
                    + " deep (selfRequestDepth " + maxDepth + "): a loop");
        }
        if (!call.path().startsWith("/") || call.path().startsWith("//")) {
            throw new Refusal(EINVAL, "self-request \"" + call.path() + "\" is not a path of this application "
                    + "(it must start with one \"/\")");
        }
        if (!running.tryAcquire()) {
            throw new Refusal(Refusal.EAGAIN, "more self-requests at once than selfRequestConcurrency allows");
        }
        try {
            Call current = call;
            for (int hop = 0;; hop++) {
                Answer answer = forward(current, depth);
                String location = answer.status() / 100 == 3 ? header(answer, "Location") : null;
                if (!call.followRedirects() || location == null || hop == MAX_REDIRECTS) {
                    return answer;
                }
                String path = samePath(location);
                if (path == null) {
                    return answer; // another origin: the program sees the redirect and may sys_fetch it
                }
                boolean keepBody = answer.status() == 307 || answer.status() == 308;
                current = new Call(keepBody ? current.method() : "GET", path, keepBody ? current.body() : new byte[0],
                        current.fields(), true, current.timeLeft(), current.maxBody());
            }
        } finally {
            running.release();
        }
    }

    private Answer forward(Call call, int depth) throws IOException {
        RequestDispatcher dispatcher = context.getRequestDispatcher(call.path());
        if (dispatcher == null) {
            return new Answer(404, "", List.of(), new byte[0]);
        }
        SelfRequestRequest request = new SelfRequestRequest(original, call, depth);
        CapturedResponse captured = new CapturedResponse(response, call.maxBody());
        try {
            dispatcher.forward(request, captured);
        } catch (CapturedResponse.TooLarge e) {
            throw new Refusal(Refusal.EFBIG, "the answer to self-request " + call.path() + " is larger than the "
                    + call.maxBody() + " bytes the program can take");
        } catch (ServletException e) {
            return new Answer(500, "", List.of(), new byte[0]); // what the container would have answered a client
        }
        return captured.answer();
    }

    private static String header(Answer answer, String name) {
        for (String line : answer.headers()) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** The path of a Location within this application, or null for one elsewhere. */
    private String samePath(String location) {
        String path = location;
        String own = original.getScheme() + "://" + original.getServerName() + ":" + original.getServerPort();
        if (location.startsWith(own + "/")) {
            path = location.substring(own.length());
        } else if (!location.startsWith("/") || location.startsWith("//")) {
            return null;
        }
        String contextPath = original.getContextPath();
        if (!contextPath.isEmpty()) {
            if (!path.startsWith(contextPath + "/")) {
                return null;
            }
            path = path.substring(contextPath.length());
        }
        return path;
    }
}
