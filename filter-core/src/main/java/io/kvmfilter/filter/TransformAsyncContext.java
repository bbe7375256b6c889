package io.kvmfilter.filter;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import java.io.IOException;

/**
 * The container's {@link AsyncContext} with one change: {@link #complete()} first finishes the response (runs
 * the transform and writes the result), because after the container's complete() nothing can be written.
 * Dispatches go through the container; the filter finishes after the dispatched request, so it must be mapped
 * for the ASYNC dispatcher type.
 */
final class TransformAsyncContext implements AsyncContext {

    /** The filter's side of an asynchronous request. */
    interface Owner {
        /** Transforms (or not) and writes the response; runs once, whoever calls it first. */
        void finish() throws IOException;

        /** The request timed out or failed ("timeout", "error"): unless the application completes it, the container answers. */
        void asyncFailed(String what);

        /** The container completed the request; it should have been finished by now. */
        void asyncCompleted();

        /** Writing the response failed (the client went away). */
        void writeFailed(IOException e);
    }

    private final AsyncContext container;
    private final Owner owner;
    private final boolean startedWithoutArguments;

    TransformAsyncContext(AsyncContext container, Owner owner, boolean startedWithoutArguments) {
        this.container = container;
        this.owner = owner;
        this.startedWithoutArguments = startedWithoutArguments;
        container.addListener(new SafetyNet());
    }

    @Override
    public void complete() {
        try {
            owner.finish();
        } catch (IOException e) {
            // The client went away while we wrote: nothing left to do but complete.
            owner.writeFailed(e);
        } finally {
            container.complete();
        }
    }

    @Override
    public ServletRequest getRequest() {
        return container.getRequest();
    }

    @Override
    public ServletResponse getResponse() {
        return container.getResponse();
    }

    @Override
    public boolean hasOriginalRequestAndResponse() {
        // The application called startAsync() on the request it was given: for it, these are the originals.
        return startedWithoutArguments || container.hasOriginalRequestAndResponse();
    }

    @Override
    public void dispatch() {
        container.dispatch();
    }

    @Override
    public void dispatch(String path) {
        container.dispatch(path);
    }

    @Override
    public void dispatch(ServletContext context, String path) {
        container.dispatch(context, path);
    }

    @Override
    public void start(Runnable run) {
        container.start(run);
    }

    @Override
    public void addListener(AsyncListener listener) {
        container.addListener(listener);
    }

    @Override
    public void addListener(AsyncListener listener, ServletRequest request, ServletResponse response) {
        container.addListener(listener, request, response);
    }

    @Override
    public <T extends AsyncListener> T createListener(Class<T> type) throws ServletException {
        return container.createListener(type);
    }

    @Override
    public void setTimeout(long timeout) {
        container.setTimeout(timeout);
    }

    @Override
    public long getTimeout() {
        return container.getTimeout();
    }

    /** Notices timeouts and errors (the container then writes an error) and completions we did not see. */
    private final class SafetyNet implements AsyncListener {
        @Override
        public void onComplete(AsyncEvent event) {
            owner.asyncCompleted();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            owner.asyncFailed("timeout");
        }

        @Override
        public void onError(AsyncEvent event) {
            owner.asyncFailed("error");
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // startAsync() again after a dispatch: the new TransformAsyncContext registers its own listener.
        }
    }
}
