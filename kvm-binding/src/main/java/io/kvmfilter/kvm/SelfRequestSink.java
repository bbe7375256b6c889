package io.kvmfilter.kvm;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The native side of {@link SelfRequests}: the kvmf_fetch_fn the core calls for a program's sys_request during
 * one run. It reads the request out of the core's struct, asks the handler and fills the reply. A program's
 * sys_fetch never comes here when it has an egress policy (the core decides those); one without a policy is
 * refused (-EPERM). The callback object is kept reachable for the run (JNA frees a collected callback's thunk).
 */
final class SelfRequestSink {
    private static final System.Logger LOG = System.getLogger(SelfRequestSink.class.getName());
    private static final int EIO = 5;

    private final SelfRequests handler;
    private final String program;

    final KvmNative.FetchHandler callback = this::fetch;

    SelfRequestSink(SelfRequests handler, String program) {
        this.handler = handler;
        this.program = program;
    }

    private int fetch(long ctx, long request, long reply) {
        Pointer r = new Pointer(request);
        if (r.getLong(NativeLayout.FETCH_REQUEST_SELF) != 1) {
            return SelfRequests.Refusal.EPERM; // sys_fetch of a program without an egress policy
        }
        try {
            SelfRequests.Call call = readCall(r);
            SelfRequests.Answer answer = handler.request(call);
            if (answer.body().length > call.maxBody()) {
                return SelfRequests.Refusal.EFBIG;
            }
            byte[] type = answer.contentType().getBytes(StandardCharsets.UTF_8);
            if (KvmNative.kvmf_fetch_reply_status(reply, answer.status(), type, type.length) != 0) {
                return EIO;
            }
            for (String header : answer.headers()) {
                if (header.indexOf('\n') >= 0 || header.indexOf('\r') >= 0) {
                    continue; // a header line with a break in it would be two: left out
                }
                byte[] line = header.getBytes(StandardCharsets.UTF_8);
                if (KvmNative.kvmf_fetch_reply_header(reply, line, line.length) != 0) {
                    break; // more than the core keeps (64 KiB): the rest is left out
                }
            }
            return KvmNative.kvmf_fetch_reply_body(reply, answer.body(), answer.body().length) == 0 ? 0
                    : SelfRequests.Refusal.EFBIG;
        } catch (SelfRequests.Refusal e) {
            return e.errno();
        } catch (IOException e) {
            return EIO;
        } catch (RuntimeException e) {
            // The handler's defect must not cross the native frames: the program gets -EIO, the log the trace.
            LOG.log(System.Logger.Level.WARNING, "kvmfilter: a self-request of program '" + program + "' failed", e);
            return EIO;
        }
    }

    private static SelfRequests.Call readCall(Pointer r) {
        String url = text(r, NativeLayout.FETCH_REQUEST_URL, NativeLayout.FETCH_REQUEST_URL_LEN);
        String method = r.getPointer(NativeLayout.FETCH_REQUEST_METHOD).getString(0, "UTF-8");
        long bodyAt = r.getLong(NativeLayout.FETCH_REQUEST_BODY);
        long bodyLen = r.getLong(NativeLayout.FETCH_REQUEST_BODY_LEN);
        byte[] body = bodyAt == 0 || bodyLen == 0 ? new byte[0] : new Pointer(bodyAt).getByteArray(0, (int) bodyLen);
        List<String> fields = new ArrayList<>();
        for (String line : text(r, NativeLayout.FETCH_REQUEST_FIELDS, NativeLayout.FETCH_REQUEST_FIELDS_LEN).split("\n")) {
            if (!line.isEmpty()) {
                fields.add(line);
            }
        }
        return new SelfRequests.Call(method, url, body, fields, r.getLong(NativeLayout.FETCH_REQUEST_FOLLOW_LOCATION) == 1,
                Duration.ofMillis(r.getLong(NativeLayout.FETCH_REQUEST_TIME_LEFT_MS)),
                r.getLong(NativeLayout.FETCH_REQUEST_MAX_BODY));
    }

    private static String text(Pointer r, long at, long lenAt) {
        long address = r.getLong(at);
        long len = r.getLong(lenAt);
        return address == 0 || len == 0 ? ""
                : new String(new Pointer(address).getByteArray(0, (int) len), StandardCharsets.UTF_8);
    }
}
