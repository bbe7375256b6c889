package io.kvmfilter.kvm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs one program or a chain: for each step, take a reference to the program, acquire an instance
 * (the core's bounded wait queue), run, read the response, release. Between steps the body stays in
 * native memory (copied native to native once, so the previous instance can be released before the next
 * step waits for its own); only the final body is copied into a Java array.
 */
final class ChainRunner {
    private static final System.Logger LOG = System.getLogger(ChainRunner.class.getName());

    private ChainRunner() {
    }

    private static final byte[] POST = NativeStrings.cString("POST");

    /** What one step produced. */
    private record StepAnswer(int status, String contentType, List<String> headers, long body, long bodyLen,
            byte[] javaBody, Failure failure, boolean onErrorUsed, String log, CacheHint cacheHint, boolean acquired,
            long queueWaitNanos, long runNanos, Streamed streamed) {
    }

    /** What a step gave its {@link ResponseStream}: the head (begun), body bytes, whether the stream stopped it. */
    private record Streamed(boolean begun, long bytes, boolean stopped) {
        static final Streamed NONE = new Streamed(false, 0, false);
    }

    /** A request body read from a stream, straight into native memory: exactly `length` bytes. */
    record BodySource(java.io.InputStream in, long length) {
    }

    /**
     * Runs the steps; the last one streams to `stream` when it is not null and the program streams. With `source`
     * the first step's body is read from it (request.body() is then null).
     */
    static Result run(Kvm owner, Map<String, ProgramSlot> slots, List<Step> steps, Request request,
            boolean mergeHeaders, ResponseStream stream, BodySource source) {
        long start = System.nanoTime();
        try {
            return runSteps(owner, slots, steps, request, mergeHeaders, stream, source, start);
        } catch (RuntimeException e) {
            // A host-side surprise (native memory exhausted, a binding bug): the caller still gets a Result to fall
            // back on, and the log keeps the stack trace.
            LOG.log(System.Logger.Level.ERROR, "kvmfilter: unexpected failure running " + steps, e);
            String step = steps.isEmpty() ? "" : steps.get(0).program();
            return Result.failed(new Failure(FailureKind.INTERNAL, step, "unexpected host-side failure: " + e), start);
        }
    }

    private static Result runSteps(Kvm owner, Map<String, ProgramSlot> slots, List<Step> steps, Request request,
            boolean mergeHeaders, ResponseStream stream, BodySource source, long start) {
        if (steps.isEmpty()) {
            return Result.failed(new Failure(FailureKind.INVALID_ARGUMENT, "", "the chain has no steps; give at least one"),
                    start);
        }
        byte[] url = NativeStrings.cString(request.url());
        byte[] headers = NativeStrings.headerBlock(request.headers());
        long headersLen = headers == null ? 0 : headers.length;
        byte[] method = NativeStrings.cString(request.method());
        byte[] contentType = NativeStrings.cString(request.contentType());
        long body;
        long bodyLen;
        if (source != null) {
            try {
                body = NativeMemory.readFrom(source.in(), source.length());
            } catch (java.io.IOException e) {
                return Result.failed(new Failure(FailureKind.INVALID_ARGUMENT, steps.get(0).program(),
                        "the request body could not be read: " + e.getMessage()), start);
            }
            bodyLen = source.length();
        } else {
            body = request.body() == null ? 0 : NativeMemory.copyOf(request.body());
            bodyLen = request.body() == null ? 0 : request.body().length;
        }
        Map<String, String> merged = mergeHeaders ? new LinkedHashMap<>() : null;
        StringBuilder log = new StringBuilder();
        boolean onErrorUsed = false;
        CacheHint cacheHint = null;
        try {
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                boolean last = i == steps.size() - 1;
                ProgramSlot slot = slots.get(step.program());
                if (slot == null) {
                    return Result.failed(new Failure(FailureKind.INVALID_ARGUMENT, step.program(), "no program '"
                            + step.program() + "' in this Kvm; programs: " + String.join(", ", slots.keySet())), start);
                }
                byte[] arg = NativeStrings.cString(step.arg());
                StepAnswer answer = runStep(slot, step.errorThreshold(), last, method, url, arg, contentType, body, bodyLen,
                        headers, headersLen, last ? stream : null, request.selfRequests());
                // The input of this step is no longer needed; the answer body (if any) is a fresh native copy.
                NativeMemory.free(body);
                body = answer.body();
                bodyLen = answer.bodyLen();
                onErrorUsed |= answer.onErrorUsed();
                if (answer.cacheHint() != null) {
                    cacheHint = cacheHint == null ? answer.cacheHint() : cacheHint.then(answer.cacheHint());
                }
                if (!answer.log().isEmpty()) {
                    log.append(answer.log());
                    slot.notices.report(answer.log());
                }
                if (merged != null) {
                    for (String header : answer.headers()) {
                        HeaderField field = HeaderField.parse(header);
                        String name = field == null ? header.strip().toLowerCase(Locale.ROOT) : field.key();
                        merged.remove(name); // a later step's header replaces an earlier one, in its new position
                        merged.put(name, header);
                    }
                }
                Failure failure = answer.failure();
                if (failure == null && answer.status() >= step.errorThreshold() && !answer.streamed().begun()) {
                    slot.countErrorStatus();
                    failure = new Failure(FailureKind.ERROR_STATUS, step.program(), "step " + (i + 1) + " ('"
                            + step.program() + "') answered status " + answer.status() + ", at or above its error threshold "
                            + step.errorThreshold());
                }
                Listeners.stepFinished(owner, new StepRun(step.program(),
                        failure == null ? StepRun.OK : StepRun.outcomeOf(failure.kind()), answer.acquired(),
                        answer.queueWaitNanos(), answer.runNanos()));
                if (failure != null || last) {
                    List<String> resultHeaders = merged != null ? new ArrayList<>(merged.values()) : answer.headers();
                    Streamed streamed = answer.streamed();
                    return new Result(answer.status(), answer.contentType(), resultHeaders, answer.javaBody(), failure,
                            onErrorUsed, System.nanoTime() - start, log.toString(), cacheHint)
                            .streamed(streamed.begun(), streamed.bytes(), streamed.stopped());
                }
                method = POST;
                contentType = NativeStrings.cString(answer.contentType());
            }
            throw new AssertionError("unreachable: the last step returns");
        } finally {
            NativeMemory.free(body);
        }
    }

    private static StepAnswer runStep(ProgramSlot slot, int errorThreshold, boolean last, byte[] method, byte[] url, byte[] arg, byte[] contentType,
            long body, long bodyLen, byte[] headers, long headersLen, ResponseStream stream, SelfRequests selfRequests) {
        String name = slot.name();
        LoadedProgram program;
        try {
            program = slot.retain();
        } catch (LoadedProgram.LoadException e) {
            return failedStep(e.failure, 0);
        }
        try {
            long[] out = new long[1];
            long timeoutMs = program.definition.queueTimeout().toMillis();
            long waitStart = System.nanoTime();
            int rc = KvmNative.kvmf_program_acquire(program.handle, timeoutMs, out);
            long runStart = System.nanoTime();
            if (rc != 0) {
                return failedStep(new Failure(FailureKind.fromNative(rc), name, NativeStrings.lastError()),
                        runStart - waitStart);
            }
            long instance = out[0];
            long response = NativeMemory.allocate(NativeLayout.RESPONSE_SIZE);
            StreamSink sink = stream == null ? null : new StreamSink(stream, name);
            SelfRequestSink self = selfRequests == null ? null : new SelfRequestSink(selfRequests, name);
            try {
                if (sink != null) {
                    KvmNative.kvmf_instance_stream_to(instance, sink.begin, sink.write, 0);
                }
                if (self != null) {
                    KvmNative.kvmf_instance_fetch_with(instance, self.callback, 0);
                }
                KvmNative.kvmf_instance_run(instance, method, url, arg, contentType, body, bodyLen, headers, headersLen,
                        0, response);
                long runNanos = System.nanoTime() - runStart;
                if (sink != null && sink.thrown() != null) {
                    throw sink.thrown(); // the caller's stream is broken, not the program
                }
                java.lang.ref.Reference.reachabilityFence(self); // its callback was in use until the run ended
                return readResponse(name, response, errorThreshold, last, runStart - waitStart, runNanos);
            } finally {
                KvmNative.kvmf_instance_release(instance);
                NativeMemory.free(response);
            }
        } finally {
            program.release();
        }
    }

    /**
     * Reads a struct kvmf_response (one copy of its fields). The body is copied once: into a Java array when
     * it ends the call (last step, failure, error status), otherwise into fresh native memory for the next step.
     */
    private static StepAnswer readResponse(String name, long response, int errorThreshold, boolean last,
            long queueWaitNanos, long runNanos) {
        ResponseFields r = new ResponseFields(response);
        int status = r.status();
        long error = r.at(NativeLayout.RESPONSE_ERROR);
        String contentType = r.contentType();
        List<String> headers = r.headers();
        String log = NativeStrings.fromBytes(r.at(NativeLayout.RESPONSE_LOG), r.at(NativeLayout.RESPONSE_LOG_LEN));
        boolean onErrorUsed = r.at(NativeLayout.RESPONSE_ON_ERROR_USED) == 1;
        CacheHint cacheHint = r.cacheHint();
        Failure failure = null;
        if (error != 0) {
            failure = new Failure(FailureKind.fromNative(error), name,
                    NativeStrings.fromCString(r.at(NativeLayout.RESPONSE_ERROR_MESSAGE)));
        }
        long bodyAddress = r.at(NativeLayout.RESPONSE_BODY);
        long bodyLen = bodyAddress == 0 ? 0 : r.at(NativeLayout.RESPONSE_BODY_LEN);
        Streamed streamed = r.at(NativeLayout.RESPONSE_STREAM_BEGUN) == 1
                ? new Streamed(true, r.at(NativeLayout.RESPONSE_STREAMED_BYTES),
                        r.at(NativeLayout.RESPONSE_STREAM_STOPPED) == 1)
                : Streamed.NONE;
        if (last || failure != null || status >= errorThreshold) {
            return new StepAnswer(status, contentType, headers, 0, 0, NativeMemory.toArray(bodyAddress, bodyLen), failure,
                    onErrorUsed, log, cacheHint, true, queueWaitNanos, runNanos, streamed);
        }
        long body = NativeMemory.copyOf(bodyAddress, bodyLen);
        return new StepAnswer(status, contentType, headers, body, bodyLen, null, null, onErrorUsed, log, cacheHint, true,
                queueWaitNanos, runNanos, streamed);
    }

    /** A step that got no instance: the program did not load, or the wait for an instance gave up. */
    private static StepAnswer failedStep(Failure failure, long queueWaitNanos) {
        return new StepAnswer(0, "", List.of(), 0, 0, Result.NO_BODY, failure, false, "", null, false, queueWaitNanos,
                0, Streamed.NONE);
    }
}
