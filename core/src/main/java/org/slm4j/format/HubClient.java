package org.slm4j.format;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Downloads model repositories from a Hugging Face hub into the hub cache, laid out exactly as huggingface_hub lays
 * it out, so what either downloaded the other reuses:
 * <pre>
 * CACHE/models--ORG--NAME/blobs/ETAG                     the file's bytes, named by its ETag (sha256 for LFS files)
 * CACHE/models--ORG--NAME/snapshots/COMMIT/FILE -> ../../blobs/ETAG
 * CACHE/models--ORG--NAME/refs/REVISION                  the commit REVISION pointed at when last pulled
 * </pre>
 * Downloads go to {@code blobs/ETAG.incomplete} under huggingface_hub's lock {@code CACHE/.locks/models--ORG--NAME/ETAG.lock},
 * resume from its length with a Range request, are checked (size, and the hash the ETag is: sha256 for LFS files,
 * the git blob sha1 for the rest) and only then renamed into place; the snapshot link comes last. Only what
 * {@link HfFolder} reads is fetched: configs, tokenizer files and safetensors weights.
 */
public final class HubClient {
    /** The hub huggingface_hub talks to when HF_ENDPOINT is unset. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** How long an answer, or the next bytes of a download, may keep a pull waiting when HF_HUB_DOWNLOAD_TIMEOUT is unset. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,96}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
    private static final int MAX_REDIRECTS = 10;
    /** Closes the streams of stalled downloads (see {@link Watched}). */
    private static final ScheduledThreadPoolExecutor WATCHDOG = new ScheduledThreadPoolExecutor(1,
            Thread.ofPlatform().daemon().name("slm4j-hub-watchdog").factory());
    private static final List<String> WANTED = List.of(HfFolder.CONFIG, HfFolder.GENERATION_CONFIG, "tokenizer.json",
            "tokenizer_config.json", "tokenizer.model", "model.safetensors.index.json");
    private static final long MAX_API_BYTES = 50_000_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        WATCHDOG.setRemoveOnCancelPolicy(true); // a read's watchdog is cancelled as soon as its bytes come: drop it then
    }

    private final Path cache;
    private final String endpoint;
    private final String token;
    private final boolean offline;
    private final Progress progress;
    private final Duration timeout;
    private final HttpClient http;

    /**
     * @param cache    the hub cache root (holds models--ORG--NAME folders)
     * @param endpoint the hub's base URL, without a trailing slash
     * @param token    sent as {@code Authorization: Bearer} to the hub's own host only; null for none
     * @param offline  use the cache only, never the network
     * @param progress told the bytes downloaded of each file (the task is the file's name)
     * @param timeout  how long an answer or the next bytes of a download may keep the client waiting
     */
    public HubClient(Path cache, String endpoint, String token, boolean offline, Progress progress, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout " + timeout + " must be positive");
        this.cache = cache;
        this.endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.offline = offline;
        this.progress = progress;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build(); // redirects: see send
    }

    /** {@link #fromEnvironment(boolean, Progress)} reporting no progress. */
    public static HubClient fromEnvironment(boolean offline) {
        return fromEnvironment(offline, Progress.NONE);
    }

    /**
     * The client huggingface_hub's environment describes: cache $HF_HUB_CACHE, else $HF_HOME/hub, else
     * ~/.cache/huggingface/hub; endpoint $HF_ENDPOINT; token $HF_TOKEN, else the file $HF_HOME/token; offline when
     * {@code offline} or HF_HUB_OFFLINE=1; timeout $HF_HUB_DOWNLOAD_TIMEOUT seconds, else {@link #DEFAULT_TIMEOUT}.
     */
    public static HubClient fromEnvironment(boolean offline, Progress progress) {
        String home = System.getenv("HF_HOME");
        Path hfHome = home != null && !home.isBlank() ? Path.of(home)
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
        String hubCache = System.getenv("HF_HUB_CACHE");
        Path cache = hubCache != null && !hubCache.isBlank() ? Path.of(hubCache) : hfHome.resolve("hub");
        String endpoint = System.getenv("HF_ENDPOINT");
        String token = System.getenv("HF_TOKEN");
        Path tokenFile = hfHome.resolve("token");
        if ((token == null || token.isBlank()) && Files.isRegularFile(tokenFile)) {
            try {
                token = Files.readString(tokenFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the hub token " + tokenFile + ": " + e, e);
            }
        }
        String off = System.getenv("HF_HUB_OFFLINE");
        boolean envOffline = off != null && List.of("1", "true", "yes", "on").contains(off.strip().toLowerCase(Locale.ROOT));
        return new HubClient(cache, endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint, token,
                offline || envOffline, progress, timeout(System.getenv("HF_HUB_DOWNLOAD_TIMEOUT")));
    }

    /** HF_HUB_DOWNLOAD_TIMEOUT's value: seconds, fractions allowed; unset or blank for the default. */
    static Duration timeout(String seconds) {
        if (seconds == null || seconds.isBlank()) return DEFAULT_TIMEOUT;
        try {
            double s = Double.parseDouble(seconds.strip());
            if (s > 0 && s <= 86_400) return Duration.ofMillis(Math.max(1, Math.round(s * 1000)));
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("HF_HUB_DOWNLOAD_TIMEOUT='" + seconds + "' is not a number of seconds in (0, 86400]");
    }

    /** Whether {@code spec} reads as {@code ORG/NAME} or {@code ORG/NAME@REVISION} with valid names. */
    public static boolean isRepoSpec(String spec) {
        int at = spec.indexOf('@');
        String repo = at < 0 ? spec : spec.substring(0, at);
        String[] parts = repo.split("/", -1);
        return parts.length == 2 && validName(parts[0]) && validName(parts[1])
                && (at < 0 || validName(spec.substring(at + 1)));
    }

    /** {@link #snapshot(String, String)} of {@code ORG/NAME[@REVISION]}, revision main by default. */
    public Path snapshot(String spec) {
        if (!isRepoSpec(spec)) {
            throw new IllegalArgumentException("'" + spec + "' is not a repo id ORG/NAME[@REVISION] (letters, digits, '.', '_', '-')");
        }
        int at = spec.indexOf('@');
        return at < 0 ? snapshot(spec, "main") : snapshot(spec.substring(0, at), spec.substring(at + 1));
    }

    /**
     * The snapshot folder of {@code repo} at {@code revision} (a branch, tag or commit), with every file slm4j reads
     * downloaded unless the cache has it already; offline, the folder the cache's refs point at.
     */
    public Path snapshot(String repo, String revision) {
        if (!isRepoSpec(repo) || repo.contains("@") || !validName(revision)) {
            throw new IllegalArgumentException("'" + repo + "@" + revision + "' is not a repo id ORG/NAME with a revision "
                    + "(letters, digits, '.', '_', '-'; no '..')");
        }
        Path repoDir = cache.resolve("models--" + repo.replace("/", "--"));
        return offline ? cached(repo, revision, repoDir) : pull(repo, revision, repoDir);
    }

    private Path cached(String repo, String revision, Path repoDir) {
        String commit = revision;
        Path ref = repoDir.resolve("refs").resolve(revision);
        if (!COMMIT.matcher(revision).matches()) {
            try {
                commit = Files.isRegularFile(ref) ? Files.readString(ref).strip() : null;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + ref + ": " + e, e);
            }
        }
        Path snap = commit == null || !COMMIT.matcher(commit).matches() ? null : repoDir.resolve("snapshots").resolve(commit);
        if (snap == null || !Files.isDirectory(snap)) {
            throw new HubException(repo + "@" + revision + " is not in the hub cache " + cache
                    + " (offline mode: pull it once online first)");
        }
        return snap;
    }

    private Path pull(String repo, String revision, Path repoDir) {
        JsonNode info = json(repo, revision, URI.create(endpoint + "/api/models/" + repo + "/revision/" + encode(revision)));
        String commit = info.path("sha").asText("");
        if (!COMMIT.matcher(commit).matches()) {
            throw new HubException(repo + "@" + revision + ": the hub answered commit '" + commit + "', expected 40 hex digits");
        }
        List<String> files = new ArrayList<>();
        for (JsonNode sibling : info.path("siblings")) {
            String name = sibling.path("rfilename").asText("");
            checkFileName(repo, name);
            if (!name.contains("/") && (WANTED.contains(name) || name.endsWith(".safetensors"))) files.add(name);
        }
        if (!files.contains(HfFolder.CONFIG)) {
            throw new HubException(repo + "@" + revision + ": the repo has no " + HfFolder.CONFIG + " (not a transformers model?)");
        }
        Path snap = repoDir.resolve("snapshots").resolve(commit);
        try {
            List<String> weights = files.stream().filter(f -> f.endsWith(".safetensors")).toList();
            for (String file : files) {
                if (!file.endsWith(".safetensors")) fetchOnce(repo, commit, file, repoDir, snap);
            }
            for (String file : shards(snap, weights)) fetchOnce(repo, commit, file, repoDir, snap);
            if (!revision.equals(commit)) {
                Path ref = repoDir.resolve("refs").resolve(revision);
                Files.createDirectories(ref.getParent());
                Path tmp = Files.createTempFile(ref.getParent(), revision, ".tmp");
                Files.writeString(tmp, commit);
                Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the hub cache " + repoDir + ": " + e, e);
        }
        return snap;
    }

    /**
     * The weight files HfFolder will read: the shards the index names, else model.safetensors, else every one (a
     * repo may also carry other copies of the weights, e.g. Mistral's consolidated.safetensors).
     */
    private static List<String> shards(Path snap, List<String> weights) {
        Path index = snap.resolve("model.safetensors.index.json");
        if (Files.exists(index)) {
            JsonNode map = HfFolder.readJson(index, HfFolder.MAX_INDEX_BYTES).path("weight_map");
            Set<String> named = new HashSet<>();
            map.forEach(shard -> named.add(shard.asText()));
            return weights.stream().filter(named::contains).toList();
        }
        return weights.contains("model.safetensors") ? List.of("model.safetensors") : weights;
    }

    private void fetchOnce(String repo, String commit, String file, Path repoDir, Path snap) throws IOException {
        Path link = snap.resolve(file);
        if (!Files.exists(link)) download(repo, commit, file, repoDir, link);
    }

    /**
     * One file: HEAD for its ETag and size, the blob (resumed when partial) written and verified under the blob's lock,
     * then the snapshot link.
     */
    private void download(String repo, String commit, String file, Path repoDir, Path link) throws IOException {
        URI uri = URI.create(endpoint + "/" + repo + "/resolve/" + commit + "/" + encode(file));
        // a HEAD stops at an LFS file's redirect to its storage: the X-Linked-* headers are on the hub's answer
        HttpResponse<Void> head = send(repo, commit, uri, "HEAD", 0, HttpResponse.BodyHandlers.discarding());
        String etag = etag(head.headers().firstValue("X-Linked-Etag").orElse(head.headers().firstValue("ETag").orElse("")));
        if (!ETAG.matcher(etag).matches() || etag.contains("..")) {
            throw new HubException(uri + ": ETag '" + etag + "' cannot name a blob (expected letters, digits, '.', '_', '-')");
        }
        long size = size(uri, head);
        Path blobs = repoDir.resolve("blobs");
        Path blob = blobs.resolve(etag);
        if (!Files.exists(blob)) {
            Files.createDirectories(blobs);
            try (BlobLock lock = BlobLock.take(cache.resolve(".locks").resolve(repoDir.getFileName()).resolve(etag + ".lock"))) {
                if (!Files.exists(blob)) { // unless another pull wrote it while this one waited for the lock
                    Path partial = blobs.resolve(etag + ".incomplete");
                    fetch(repo, commit, uri, file, partial, size);
                    verify(uri, file, partial, etag, size);
                    Files.move(partial, blob, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        }
        // a fresh link renamed over the old one: a concurrent pull of the same snapshot may be doing the same
        Files.createDirectories(link.getParent());
        Path tmp = link.resolveSibling(link.getFileName() + "." + ProcessHandle.current().pid() + "." + Thread.currentThread().threadId() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, link.getParent().relativize(blob));
        Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The file's size: X-Linked-Size for an LFS file, else the Content-Length of the hub's 200; -1 when unknown. */
    private static long size(URI uri, HttpResponse<?> head) {
        var h = head.headers();
        String size = h.firstValue("X-Linked-Size").orElse(head.statusCode() == 200 ? h.firstValue("Content-Length").orElse("-1") : "-1");
        try {
            long n = Long.parseLong(size.strip());
            if (n >= -1) return n;
        } catch (NumberFormatException e) {
            // said below
        }
        throw new HubException(uri + ": the hub announced the size '" + size + "', expected a byte count");
    }

    /**
     * The body of {@code uri} into {@code partial}, continuing from what it holds when the server honours Range. A
     * failure, a stall, an answer that ends short or a full disk leaves the partial file for the next run to resume from.
     */
    private void fetch(String repo, String commit, URI uri, String file, Path partial, long size) throws IOException {
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        if (size >= 0 && have == size) return; // complete but not yet verified: verify() decides
        if (size >= 0 && have > size) {
            Files.delete(partial);
            have = 0;
        }
        HttpResponse<InputStream> r = send(repo, commit, uri, "GET", have, HttpResponse.BodyHandlers.ofInputStream());
        boolean resumed = r.statusCode() == 206;
        long done = resumed ? have : 0;
        if (size >= 0) progress.update(file, done, size);
        try (InputStream in = new Watched(r.body(), timeout);
             OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = read(in, buf, file, partial, done)) > 0; ) {
                try {
                    out.write(buf, 0, n);
                } catch (IOException e) {
                    throw new HubException("cannot write " + partial + " (" + e.getMessage() + "), the download of " + file
                            + " stopped after " + done + " bytes; free some space and run again to resume", e);
                }
                done += n;
                if (size >= 0) progress.update(file, Math.min(done, size), size);
                if (size >= 0 && done > size) break;
            }
        }
        if (size < 0) progress.update(file, done, done);
        if (done < size) { // an answer cut short but cleanly: what came is a good prefix to resume from
            throw new HubException("the download of " + file + " ended after " + done + " of " + size + " bytes; run again to "
                    + "resume from " + partial);
        }
    }

    /** The next bytes of a download, or a message that says it broke off or stalled and can be resumed. */
    private int read(InputStream in, byte[] buf, String file, Path partial, long done) {
        try {
            return in.read(buf);
        } catch (IOException e) {
            String why = e instanceof SocketTimeoutException ? "stalled (no data for " + seconds(timeout)
                    + " s; HF_HUB_DOWNLOAD_TIMEOUT sets the limit)" : "broke off (" + e.getMessage() + ")";
            throw new HubException("the download of " + file + " " + why + " after " + done + " bytes; run again to resume "
                    + "from " + partial, e);
        }
    }

    /** The size must be the announced one and the content hash the ETag (see {@link #digest}); a bad blob is deleted. */
    private static void verify(URI uri, String file, Path partial, String etag, long size) throws IOException {
        long got = Files.size(partial);
        String problem = null;
        if (size >= 0 && got != size) problem = got + " bytes where the hub announced " + size;
        else if (SHA256.matcher(etag).matches() || SHA1.matcher(etag).matches()) {
            boolean lfs = etag.length() == 64;
            String hash = digest(partial, lfs);
            if (!hash.equals(etag)) problem = (lfs ? "sha256 " : "git blob sha1 ") + hash + " where the hub announced " + etag;
        }
        if (problem != null) {
            Files.delete(partial);
            throw new HubException(file + " (" + uri + "): corrupt download, " + problem + "; the partial file was deleted, run again");
        }
    }

    /**
     * The hash the hub names a blob by: an LFS file's ETag is the sha256 of its content, any other file's is its git
     * object id, the sha1 of {@code "blob SIZE\0"} and the content.
     */
    private static String digest(Path file, boolean lfs) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance(lfs ? "SHA-256" : "SHA-1");
            if (!lfs) md.update(("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256 and SHA-1", e);
        }
    }

    private JsonNode json(String repo, String revision, URI uri) {
        HttpResponse<InputStream> r = send(repo, revision, uri, "GET", 0, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = new Watched(r.body(), timeout)) {
            byte[] body = in.readNBytes((int) MAX_API_BYTES + 1);
            if (body.length > MAX_API_BYTES) throw new HubException(uri + ": answer longer than " + MAX_API_BYTES + " bytes");
            return JSON.readTree(body);
        } catch (JacksonException e) {
            throw new HubException(uri + ": the hub's answer is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new HubException(uri + ": reading the hub's answer failed: " + e.getMessage(), e);
        }
    }

    /**
     * Sends {@code method} (with a Range from {@code from} bytes when positive), following at most
     * {@value #MAX_REDIRECTS} redirects: a GET all of them, a HEAD only those within the hub (a renamed repo) and not the
     * one to an LFS file's storage. The token goes to the hub's own host only.
     */
    private <T> HttpResponse<T> send(String repo, String revision, URI uri, String method, long from,
                                     HttpResponse.BodyHandler<T> body) {
        for (int hops = 0; ; hops++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
                    .header("Accept-Encoding", "identity").header("User-Agent", "slm4j").timeout(timeout); // until the headers
            if (token != null && onHub(uri)) b.header("Authorization", "Bearer " + token);
            if (from > 0) b.header("Range", "bytes=" + from + "-");
            HttpResponse<T> r = check(repo, revision, uri, exchange(b.build(), body));
            if (r.statusCode() < 300) return r;
            String location = r.headers().firstValue("Location").orElse("");
            URI next = null;
            try {
                if (!location.isEmpty()) next = uri.resolve(location);
            } catch (IllegalArgumentException e) {
                // said below
            }
            if (next != null && method.equals("HEAD") && !onHub(next)) return r;
            close(r);
            if (next == null) throw new HubException(uri + ": HTTP " + r.statusCode() + " redirects to '" + location + "', not a URL");
            if (hops == MAX_REDIRECTS) throw new HubException(uri + ": more than " + MAX_REDIRECTS + " redirects");
            uri = next;
        }
    }

    /** Whether {@code uri} is on the hub's own scheme, host and port, the only place the token may go. */
    private boolean onHub(URI uri) {
        URI hub = URI.create(endpoint);
        return Objects.equals(uri.getScheme(), hub.getScheme()) && Objects.equals(uri.getHost(), hub.getHost())
                && uri.getPort() == hub.getPort();
    }

    private <T> HttpResponse<T> exchange(HttpRequest req, HttpResponse.BodyHandler<T> body) {
        try {
            return http.send(req, body);
        } catch (HttpTimeoutException e) {
            throw new HubException(req.uri() + ": no answer within " + seconds(timeout) + " s (HF_HUB_DOWNLOAD_TIMEOUT sets "
                    + "the limit); use --offline or HF_HUB_OFFLINE=1 to use the cache only", e);
        } catch (IOException e) {
            throw new HubException("cannot reach the hub at " + endpoint + " (" + e + "); use --offline or HF_HUB_OFFLINE=1 "
                    + "to use the cache only", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while talking to " + endpoint, new IOException(e));
        }
    }

    private static String seconds(Duration d) {
        return BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    private static void close(HttpResponse<?> r) {
        if (r.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // the status already says what went wrong
            }
        }
    }

    /** The hub's refusals as messages that say what to do; redirects pass. */
    private <T> HttpResponse<T> check(String repo, String revision, URI uri, HttpResponse<T> r) {
        int code = r.statusCode();
        if (code == 200 || code == 206 || (code >= 300 && code < 400)) return r;
        close(r);
        String where = repo + "@" + revision + " (" + uri + ")";
        throw new HubException(switch (code) {
            case 401, 403 -> where + ": HTTP " + code + ", a gated or private repo: set HF_TOKEN to a token that may read it";
            case 404 -> where + ": HTTP 404, no such repo/revision/file on " + endpoint;
            default -> where + ": the hub answered HTTP " + code;
        });
    }

    /** An ETag header without the weak prefix and quotes. */
    private static String etag(String header) {
        String e = header.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    private static boolean validName(String s) {
        return NAME.matcher(s).matches() && !s.contains("..") && !s.startsWith(".") && !s.startsWith("-");
    }

    /** A repository path from the API must stay inside the snapshot: relative, no '..', no backslash or NUL. */
    private static void checkFileName(String repo, String name) {
        boolean bad = name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.contains("\0") || name.contains(":")
                || name.length() > 1000;
        for (String part : name.split("/", -1)) bad |= part.isEmpty() || part.equals(".") || part.equals("..");
        if (bad) throw new HubException(repo + ": the hub lists the file '" + name.replace("\0", "\\0")
                + "', not a relative path inside the repo");
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * A response body whose reads give up after the client's timeout without a byte: the HTTP client's own timeout
     * ends with the headers, and a server that then sends nothing must not hang a pull. A watchdog closes the stream,
     * which wakes the blocked read, and the read then throws {@link SocketTimeoutException}.
     */
    private static final class Watched extends FilterInputStream {
        private final Duration timeout;
        private volatile boolean stalled;

        Watched(InputStream in, Duration timeout) {
            super(in);
            this.timeout = timeout;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            ScheduledFuture<?> dog = WATCHDOG.schedule(this::stall, timeout.toMillis(), TimeUnit.MILLISECONDS);
            try {
                return in.read(b, off, len);
            } catch (IOException e) {
                if (stalled) throw (SocketTimeoutException) new SocketTimeoutException("no data for " + timeout).initCause(e);
                throw e;
            } finally {
                dog.cancel(false);
            }
        }

        private void stall() {
            stalled = true;
            try {
                in.close();
            } catch (IOException ignored) {
                // the blocked read reports the stall
            }
        }
    }
}
