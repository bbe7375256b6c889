package io.kvmfilter.example.jetty;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * Makes every request ask for one media type ({@code Accept: image/webp}), whatever the client sent: the demo's
 * views {@code /_kvm/webp/<file>} and {@code /_kvm/avif/<file>} show a conversion to every browser. The
 * conversion itself stays an ordinary negotiated variant, whose Content-Type the filter sets; a program cannot
 * choose it.
 */
final class ForcedAccept implements Filter {

    private final String mediaType;

    /** @param mediaType the only type the requests accept, e.g. {@code image/webp} */
    ForcedAccept(String mediaType) {
        this.mediaType = mediaType;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest http)) {
            chain.doFilter(request, response);
            return;
        }
        chain.doFilter(new HttpServletRequestWrapper(http) {
            @Override
            public String getHeader(String name) {
                return "Accept".equalsIgnoreCase(name) ? mediaType : super.getHeader(name);
            }

            @Override
            public Enumeration<String> getHeaders(String name) {
                return "Accept".equalsIgnoreCase(name) ? Collections.enumeration(List.of(mediaType))
                        : super.getHeaders(name);
            }

            @Override
            public Enumeration<String> getHeaderNames() {
                List<String> names = new ArrayList<>(Collections.list(super.getHeaderNames()));
                if (names.stream().noneMatch("Accept"::equalsIgnoreCase)) {
                    names.add("Accept");
                }
                return Collections.enumeration(names);
            }
        }, response);
    }
}
