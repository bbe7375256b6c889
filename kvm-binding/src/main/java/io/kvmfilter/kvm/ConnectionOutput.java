package io.kvmfilter.kvm;

import java.io.IOException;

/**
 * Where the bytes a program writes to its client connection go ({@link Kvm#openConnection}): usually the client's
 * socket. Called on the thread that opens, delivers to or closes the {@link ProgramConnection}, while the program
 * runs; the time it takes is not charged to the program's {@code max_request_time}.
 */
@FunctionalInterface
public interface ConnectionOutput {

    /**
     * Bytes the program wrote, in order. A large write comes in several calls.
     *
     * @param data   a buffer holding the bytes from index 0, valid during the call only (it is reused)
     * @param length how many bytes
     * @throws IOException when the client has gone: the program's session then ends (the outcome says
     *     {@link ConnectionOutcome#closed()})
     */
    void write(byte[] data, int length) throws IOException;
}
