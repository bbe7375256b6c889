package io.kvmfilter.kvm;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Receives a program's streaming response (begin_streaming_response) as the program produces it, for
 * {@link Kvm#run(String, Request, ResponseStream)}: the head once, then the body piece by piece (at most 1 MiB
 * each). Nothing is called for a program that answers whole; its body comes in the {@link Result} as usual.
 *
 * <p>An {@link IOException} from either method (the client has gone) stops the stream: the program's remaining
 * callbacks are not run and the instance is reset. The time these methods take is not charged to the program.
 */
public interface ResponseStream {

    /**
     * The head, before the first piece.
     *
     * @param status        the program's status
     * @param contentType   the program's content type
     * @param contentLength the body's length, as the program announced it
     * @param headers       "Name: value" response headers the program set
     * @param cacheHint     its sys_set_cacheable hint, when it gave one
     */
    void begin(int status, String contentType, long contentLength, List<String> headers, Optional<CacheHint> cacheHint)
            throws IOException;

    /**
     * One piece of the body, valid during the call only.
     *
     * @param data   a buffer holding the piece from index 0
     * @param length its length
     */
    void write(byte[] data, int length) throws IOException;
}
