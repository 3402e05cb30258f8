# report.awk — renders results.tsv (rows from s2l_loadgen and s2l_rawldap) as Markdown.
#
# Columns: 1 mode  2 side (gw|raw)  3 scenario  4 concurrency  5 issued  6 ok  7 errors
#          8 elapsed_s  9 ops_s  10 p50_ms  11 p99_ms  12 max_ms  13 cpu_s_per_1k (gateway's,
#          or the raw client's own)  14 slapd_cpu_s_per_1k  15 VmHWM_kB  16 VmRSS_kB
# A scenario "X (repeat N)" is the gateway run again at the end; it is compared with raw "X".
# Usage: awk -F'\t' -f report.awk results.tsv

function base_of(label) { sub(/ \(repeat [0-9]+\)$/, "", label); return label }
function mb(kb) { return sprintf("%.1f", kb / 1024) }
function num(v, fmt) { return v == "" ? "n/a" : sprintf(fmt, v) }
function cpu(v) { return (v == "" || v < 0) ? "n/a" : sprintf("%.3f", v) }
function ratio(a, b) { return (a == "" || b == "" || b <= 0) ? "n/a" : sprintf("%.2f", a / b) }

{
    m = $1; side = $2; sc = $3; c = $4
    if (!(m in mode_seen)) { mode_seen[m] = 1; modes[++n_modes] = m }
    if (!((m SUBSEP sc) in sc_seen)) { sc_seen[m, sc] = 1; scs[m, ++n_scs[m]] = sc }
    if (!((m SUBSEP sc SUBSEP c) in c_seen)) { c_seen[m, sc, c] = 1; cs[m, sc, ++n_cs[m, sc]] = c }
    k = m SUBSEP side SUBSEP sc SUBSEP c
    have[k] = 1; ok[k] = $6; err[k] = $7; ops[k] = $9; p50[k] = $10; p99[k] = $11
    pcpu[k] = $13; scpu[k] = $14; hwm[k] = $15; rss[k] = $16
}

function row(m, sc, c,    g, r, b, gops, rops, line) {
    g = m SUBSEP "gw" SUBSEP sc SUBSEP c
    b = base_of(sc)
    r = m SUBSEP "raw" SUBSEP b SUBSEP c
    if (!(g in have) && !(r in have)) return
    gops = (g in have && ok[g] > 0) ? ops[g] : ""
    rops = (r in have && ok[r] > 0) ? ops[r] : ""
    line = "| " sc " | " c
    line = line " | " ((g in have && gops == "") ? "**failed**" : num(gops, "%.0f"))
    line = line " | " ((r in have && rops == "") ? "**failed**" : num(rops, "%.0f")) " | " ratio(gops, rops)
    line = line " | " (gops != "" ? sprintf("%.2f / %.2f", p50[g], p99[g]) : "n/a")
    line = line " | " (rops != "" ? sprintf("%.2f / %.2f", p50[r], p99[r]) : "n/a")
    line = line " | " ((g in have) ? cpu(pcpu[g]) : "n/a")
    line = line " | " ((g in have) ? cpu(scpu[g]) : "n/a") " / " ((r in have) ? cpu(scpu[r]) : "n/a")
    line = line " | " ((g in have && hwm[g] > 0) ? mb(hwm[g]) " / " mb(rss[g]) : "n/a")
    line = line " | " ((g in have) ? err[g] : "-") " / " ((r in have) ? err[r] : "-") " |"
    print line
}

# p99 of a row that had successes, else "" (all failed: no latency to compare).
function p99_ok(m, side, sc, c,    k) {
    k = m SUBSEP side SUBSEP sc SUBSEP c
    return ((k in have) && ok[k] > 0) ? p99[k] : ""
}

function get(m, side, sc, c, arr,    k) {
    k = m SUBSEP side SUBSEP sc SUBSEP c
    return (k in have) ? arr[k] : ""
}

function targets(m,    i, j, c, s, sc, line, big, small, maxhwm, k, rep) {
    print ""
    print "Targets (" m "; measured, not asserted):"
    print ""
    line = ""
    for (i = 1; i <= n_cs[m, "POST /Users"]; i++) {
        c = cs[m, "POST /Users", i]
        line = line sprintf(" c=%s: %s", c, ratio(get(m, "gw", "POST /Users", c, ops), get(m, "raw", "POST /Users", c, ops)))
    }
    print "- POST ≥ 0.6× raw add rate —" line
    line = ""
    for (i = 1; i <= n_cs[m, "PATCH user"]; i++) {
        c = cs[m, "PATCH user", i]
        line = line sprintf(" c=%s: %s", c, ratio(get(m, "gw", "PATCH user", c, ops), get(m, "raw", "PATCH user", c, ops)))
    }
    print "- PATCH ≥ 0.6× raw modify rate —" line
    line = ""
    for (i = 1; i <= n_cs[m, "PATCH title"]; i++) {
        c = cs[m, "PATCH title", i]
        line = line sprintf(" c=%s: %s", c, ratio(get(m, "gw", "PATCH title", c, ops), get(m, "raw", "PATCH title", c, ops)))
    }
    if (line != "")
        print "- PATCH (one modify: no stored value matters) ≥ 0.7× raw modify rate (nosync), ≥ 0.8× (durable) —" line
    line = ""
    for (i = 1; i <= n_cs[m, "PUT user"]; i++) {
        c = cs[m, "PUT user", i]
        line = line sprintf(" c=%s: %s", c, ratio(get(m, "gw", "PUT user", c, ops), get(m, "raw", "PUT user", c, ops)))
    }
    if (line != "")
        print "- PUT (the whole profile, as Okta and OneLogin update a user) vs raw modify of the same attributes —" line
    line = ""
    for (i = 1; i <= n_cs[m, "DELETE user"]; i++) {
        c = cs[m, "DELETE user", i]
        line = line sprintf(" c=%s: %s", c, ratio(get(m, "gw", "DELETE user", c, ops), get(m, "raw", "DELETE user", c, ops)))
    }
    if (line != "")
        print "- DELETE vs raw delete rate —" line
    line = ""
    for (i = 1; i <= n_cs[m, "GET filter"]; i++) {
        c = cs[m, "GET filter", i]
        if (c != 16 && c != 64) continue
        line = line sprintf(" c=%s: %s", c, ratio(get(m, "gw", "GET filter", c, ops), get(m, "raw", "GET filter", c, ops)))
    }
    print "- GET filter ≥ 0.5× raw search rate at 16 and 64 —" (line == "" ? " n/a" : line)
    line = ""
    for (i = 1; i <= n_cs[m, "member add g100k"]; i++) {
        c = cs[m, "member add g100k", i]
        big = p99_ok(m, "gw", "member add g100k", c)
        small = p99_ok(m, "gw", "member add g10", c)
        line = line sprintf(" c=%s: %s vs %s ms (%s×", c, num(big, "%.1f"), num(small, "%.1f"), ratio(big, small))
        big = p99_ok(m, "raw", "member add g100k", c)
        small = p99_ok(m, "raw", "member add g10", c)
        line = line sprintf("; raw %s vs %s ms, %s×);", num(big, "%.1f"), num(small, "%.1f"), ratio(big, small))
    }
    print "- member add into the 100,000-member group, gateway p99 within 2× of the 10-member group —" (line == "" ? " n/a (no /Groups yet)" : line)
    maxhwm = 0
    for (k in have) {
        split(k, s, SUBSEP)
        if (s[1] == m && s[2] == "gw" && hwm[k] > maxhwm) maxhwm = hwm[k]
    }
    print "- gateway peak RSS (VmHWM over the whole run, incl. c=256) under 30 MB — " (maxhwm > 0 ? mb(maxhwm) " MB" : "n/a")
    # VmRSS at the end of each level (after its last scenario), then after the repeat.
    line = ""
    for (i = 1; i <= n_cs[m, "DELETE user"]; i++) {
        c = cs[m, "DELETE user", i]
        if (get(m, "gw", "DELETE user", c, rss) != "")
            line = line sprintf(" c=%s: %s MB,", c, mb(get(m, "gw", "DELETE user", c, rss)))
    }
    rep = ""
    for (j = 1; ((m SUBSEP "DELETE user (repeat " j ")") in sc_seen); j++) {
        sc = "DELETE user (repeat " j ")"
        c = cs[m, sc, 1]
        rep = rep sprintf(" c=%s again (%d): %s MB,", c, j, mb(get(m, "gw", sc, c, rss)))
    }
    sub(/,$/, "", rep)
    if (line == "")
        print "- no growth across repeated runs — n/a"
    else
        print "- no growth across repeated runs — gateway VmRSS after each level:" line (rep == "" ? " (no repeat run)" : rep)
}

END {
    if (n_modes == 0) { print "(no results)"; exit }
    for (i = 1; i <= n_modes; i++) {
        m = modes[i]
        print ""
        if (m == "list") {
            print "### List pages in a big directory (slapd `dbnosync`, sssvlv)"
        } else
            print "### slapd " m (m == "nosync" ? " (`dbnosync`)" : " (every write synced)")
        print ""
        print "| scenario | c | gateway ops/s | raw ops/s | gw/raw | gateway p50 / p99 ms | raw p50 / p99 ms | gateway CPU s per 1k req | slapd CPU s per 1k (gw / raw) | gateway VmHWM / VmRSS MB | errors (gw / raw) |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        # The repeat run last, right under what it repeats.
        for (pass = 0; pass < 2; pass++)
            for (j = 1; j <= n_scs[m]; j++) {
                sc = scs[m, j]
                if ((sc ~ / \(repeat [0-9]+\)$/) != pass) continue
                for (l = 1; l <= n_cs[m, sc]; l++)
                    row(m, sc, cs[m, sc, l])
            }
        if (m != "list")
            targets(m)
    }
}
