// Starts AWS DynamoDB Local listening on 127.0.0.1 only.
//
// DynamoDB Local has no bind-address option: its DynamoDBProxyServer builds a Jetty Server on
// "any address" and would accept connections from the whole network with any credentials. This
// launcher builds the server through DynamoDB Local's own API (the same call its main() makes),
// sets the host of every Jetty connector to 127.0.0.1 before anything is bound, starts it, and
// then checks the socket it really got. It fails closed: whenever it cannot prove a loopback-only
// bind it stops the server and exits non-zero instead of serving.
//
// Usage (ddbkit runs this; the arguments are DynamoDB Local's own):
//   java -Djava.library.path=DIR/DynamoDBLocal_lib -cp DIR/DynamoDBLocal.jar:DIR/DynamoDBLocal_lib/*
//        LoopbackLauncher -port 8000 -sharedDb -disableTelemetry (-inMemory | -dbPath PATH)

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackLauncher {
    static final String HOST = "127.0.0.1";
    // Exit codes ddbkit reads: 2 = could not bind/start, 3 = could not prove a loopback-only bind.
    static final int EXIT_START_FAILED = 2;
    static final int EXIT_NOT_LOOPBACK = 3;

    private LoopbackLauncher() {}

    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Server jetty = jettyServerOf(proxy);
        bindLoopbackOnly(jetty);
        try {
            // safeStart() lets a bind failure escape; start() would print it, stop Jetty and
            // return normally, leaving a process that serves nothing.
            proxy.safeStart();
        } catch (Exception e) {
            fail(EXIT_START_FAILED, "could not start on " + HOST + ": " + e, proxy);
        }
        int port = verifyLoopbackOnly(jetty, proxy);
        System.out.println("ddbkit-launcher: DynamoDB Local listening on " + HOST + ":" + port);
        System.out.flush();
        proxy.join();
    }

    /** Find the Jetty Server inside DynamoDBProxyServer by type, not by field name. */
    static Server jettyServerOf(DynamoDBProxyServer proxy) throws IllegalAccessException {
        for (Field field : DynamoDBProxyServer.class.getDeclaredFields()) {
            if (Server.class.isAssignableFrom(field.getType())) {
                field.setAccessible(true);
                Object value = field.get(proxy);
                if (value != null) {
                    return (Server) value;
                }
            }
        }
        fail(EXIT_NOT_LOOPBACK, "this DynamoDB Local has no Jetty Server field to bind", null);
        return null; // unreachable: fail() exits
    }

    static void bindLoopbackOnly(Server jetty) {
        Connector[] connectors = jetty.getConnectors();
        if (connectors == null || connectors.length == 0) {
            fail(EXIT_NOT_LOOPBACK, "this DynamoDB Local has no Jetty connector to bind", null);
        }
        for (Connector connector : connectors) {
            if (!(connector instanceof ServerConnector)) {
                fail(EXIT_NOT_LOOPBACK, "unknown connector type " + connector.getClass(), null);
            }
            ((ServerConnector) connector).setHost(HOST);
        }
    }

    /** Check the address each connector's socket really has; return the port. */
    static int verifyLoopbackOnly(Server jetty, DynamoDBProxyServer proxy) {
        int port = -1;
        for (Connector connector : jetty.getConnectors()) {
            ServerConnector server = (ServerConnector) connector;
            InetAddress address = boundAddress(server, proxy);
            if (!address.isLoopbackAddress()) {
                fail(EXIT_NOT_LOOPBACK, "bound to non-loopback address " + address, proxy);
            }
            port = server.getLocalPort();
        }
        if (port <= 0) {
            fail(EXIT_START_FAILED, "the server did not open a port", proxy);
        }
        return port;
    }

    static InetAddress boundAddress(ServerConnector server, DynamoDBProxyServer proxy) {
        try {
            Object transport = server.getTransport();
            if (transport instanceof ServerSocketChannel) {
                SocketAddress local = ((ServerSocketChannel) transport).getLocalAddress();
                if (local instanceof InetSocketAddress) {
                    return ((InetSocketAddress) local).getAddress();
                }
            }
        } catch (Exception e) {
            fail(EXIT_NOT_LOOPBACK, "cannot read the bound address: " + e, proxy);
        }
        fail(EXIT_NOT_LOOPBACK, "cannot read the bound address", proxy);
        return null; // unreachable: fail() exits
    }

    static void fail(int code, String message, DynamoDBProxyServer proxy) {
        System.err.println("ddbkit-launcher: " + message);
        System.err.flush();
        if (proxy != null) {
            try {
                proxy.stop();
            } catch (Exception ignored) {
                // Exiting below closes the socket anyway; the stop is only a courtesy.
            }
        }
        // halt, not exit: no shutdown hook or non-daemon thread may keep a public socket alive.
        Runtime.getRuntime().halt(code);
    }
}
