package io.kvmfilter.example.tomcat;

/**
 * Deploys the packaged war (configured by web.xml init-params, the filter's jars in WEB-INF/lib) into an embedded
 * Tomcat 11 (Servlet 6.1) and checks it over HTTP.
 */
class EmbeddedTomcat11IT extends InitParamsWarContract {

    @Override
    Deployment deploy() throws Exception {
        return EmbeddedTomcat.deploy(EmbeddedTomcat.WAR, "tomcat11-plain");
    }
}
