package io.kvmfilter.example.tomcat;

/**
 * Deploys the MicroProfile Config war (filters declared without init-params, parameters in
 * WEB-INF/classes/META-INF/microprofile-config.properties, SmallRye Config in WEB-INF/lib) into an embedded
 * Tomcat 11.
 */
class EmbeddedTomcat11MpConfigIT extends WarContract {

    @Override
    Deployment deploy() throws Exception {
        return EmbeddedTomcat.deploy(EmbeddedTomcat.MPCONFIG_WAR, "tomcat11-mpconfig");
    }
}
