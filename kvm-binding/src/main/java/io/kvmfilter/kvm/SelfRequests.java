package io.kvmfilter.kvm;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Answers the self-requests of the programs a call runs ({@code sys_request}, the VMOD's self-request): requests
 * by path to the server itself. A program's self-request is refused ({@code -EPERM}) unless its {@link Request}
 * carries one of these ({@link Request#withSelfRequests}); the servlet layer gives one that dispatches the path
 * through the web application (ProgramServlet's {@code selfRequests}).
 *
 * <p>It runs on the thread that runs the program, within the request's time: {@link Call#timeLeft()} says how
 * much is left. Throw {@link Refusal} to answer the program with an error value (a loop, too many at once), any
 * other {@link IOException} for {@code -EIO}.
 */
@FunctionalInterface
public interface SelfRequests {

    /**
     * @param call what the program asked for
     * @return the answer the program gets
     * @throws IOException {@link Refusal} for a chosen error value, any other for -EIO
     */
    Answer request(Call call) throws IOException;

    /**
     * A program's self-request.
     *
     * @param method "GET", or "POST" when the program gave a body
     * @param path the path the program named, with its query if any (not checked: it may be anything)
     * @param body the POST body, or an empty array
     * @param fields the extra request header lines the program gave ("Name: value")
     * @param followRedirects the program asked to follow redirects
     * @param timeLeft what the request's time limit leaves
     * @param maxBody the most body bytes the program can take (its request memory left)
     */
    record Call(String method, String path, byte[] body, List<String> fields, boolean followRedirects,
            Duration timeLeft, long maxBody) {
        /** Copies the list. */
        public Call {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(body, "body");
            fields = List.copyOf(fields);
            Objects.requireNonNull(timeLeft, "timeLeft");
        }
    }

    /**
     * The answer to a self-request.
     *
     * @param status the HTTP status, 100 to 999
     * @param contentType its Content-Type, "" for none
     * @param headers response header lines ("Name: value")
     * @param body the body (at most {@link Call#maxBody()} bytes, or the program gets -EFBIG)
     */
    record Answer(int status, String contentType, List<String> headers, byte[] body) {
        /** Checks the status and copies the list. */
        public Answer {
            if (status < 100 || status > 999) {
                throw new IllegalArgumentException("status " + status + " is not 100 to 999");
            }
            Objects.requireNonNull(contentType, "contentType");
            headers = List.copyOf(headers);
            Objects.requireNonNull(body, "body");
        }
    }

    /** A self-request refused with an error value for the program, such as ELOOP or EAGAIN. */
    final class Refusal extends IOException {
        private static final long serialVersionUID = 1L;
        /** The program gets -ELOOP: the self-requests went too deep (a loop). */
        public static final int ELOOP = 40;
        /** The program gets -EAGAIN: too many self-requests at once. */
        public static final int EAGAIN = 11;
        /** The program gets -EPERM: self-requests are not allowed here. */
        public static final int EPERM = 1;
        /** The program gets -EFBIG: the answer is larger than the program can take. */
        public static final int EFBIG = 27;
        /** The program gets -ETIMEDOUT: the request's time ran out. */
        public static final int ETIMEDOUT = 110;

        private final int errno;

        /**
         * @param errno the positive errno the program gets negated (one of the constants here, or another)
         * @param why what to log
         */
        public Refusal(int errno, String why) {
            super(why);
            if (errno <= 0 || errno >= 4096) {
                throw new IllegalArgumentException("errno " + errno + " is not 1 to 4095");
            }
            this.errno = errno;
        }

        /** @return the positive errno the program gets negated */
        public int errno() {
            return errno;
        }
    }
}
