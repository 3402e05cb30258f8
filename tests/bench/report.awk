# report.awk — renders results.tsv (rows from s2l_loadgen and s2l_rawldap) as Markdown.
#
# Columns: 1 mode  2 side (gw|raw)  3 scenario  4 concurrency  5 issued  6 ok  7 errors
#          8 elapsed_s  9 ops_s  10 p50_ms  11 p99_ms  12 max_ms  13 cpu_s_per_1k (gateway's,
#          or the raw client's own)  14 slapd_cpu_s_per_1k  15 VmHWM_kB  16 VmRSS_kB
# A scenario "X (repeat)" is the gateway run again at the end; it is compared with raw "X".
# Usage: awk -F'\t' -f report.awk results.tsv

function base_of(label) { sub(/ \(repeat\)$/, "", label); return label }
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
    gops = (g in have) ? ops[g] : ""
    rops = (r in have) ? ops[r] : ""
    line = "| " sc " | " c
    line = line " | " num(gops, "%.0f") " | " num(rops, "%.0f") " | " ratio(gops, rops)
    line = line " | " ((g in have) ? sprintf("%.2f / %.2f", p50[g], p99[g]) : "n/a")
    line = line " | " ((r in have) ? sprintf("%.2f / %.2f", p50[r], p99[r]) : "n/a")
    line = line " | " ((g in have) ? cpu(pcpu[g]) : "n/a")
    line = line " | " ((g in have) ? cpu(scpu[g]) : "n/a") " / " ((r in have) ? cpu(scpu[r]) : "n/a")
    line = line " | " ((g in have && hwm[g] > 0) ? mb(hwm[g]) " / " mb(rss[g]) : "n/a")
    line = line " | " ((g in have) ? err[g] : "-") " / " ((r in have) ? err[r] : "-") " |"
    print line
}

function get(m, side, sc, c, arr,    k) {
    k = m SUBSEP side SUBSEP sc SUBSEP c
    return (k in have) ? arr[k] : ""
}

function targets(m,    i, c, g, r, s, t, line, big, small, maxhwm, k, rss1, rss2) {
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
    for (i = 1; i <= n_cs[m, "GET filter"]; i++) {
        c = cs[m, "GET filter", i]
        if (c != 16 && c != 64) continue
        line = line sprintf(" c=%s: %s", c, ratio(get(m, "gw", "GET filter", c, ops), get(m, "raw", "GET filter", c, ops)))
    }
    print "- GET filter ≥ 0.5× raw search rate at 16 and 64 —" (line == "" ? " n/a" : line)
    line = ""
    for (i = 1; i <= n_cs[m, "member add g100k"]; i++) {
        c = cs[m, "member add g100k", i]
        big = get(m, "gw", "member add g100k", c, p99)
        small = get(m, "gw", "member add g10", c, p99)
        line = line sprintf(" c=%s: %s ms vs %s ms (%s×)", c, num(big, "%.1f"), num(small, "%.1f"), ratio(big, small))
    }
    print "- member add into the big group, gateway p99 within 2× of the 10-member group —" (line == "" ? " n/a (no /Groups yet)" : line)
    maxhwm = 0
    for (k in have) {
        split(k, s, SUBSEP)
        if (s[1] == m && s[2] == "gw" && hwm[k] > maxhwm) maxhwm = hwm[k]
    }
    print "- gateway peak RSS (VmHWM over the whole run, incl. c=256) under 30 MB — " (maxhwm > 0 ? mb(maxhwm) " MB" : "n/a")
    rss1 = get(m, "gw", "DELETE user", 256, rss)
    rss2 = get(m, "gw", "DELETE user (repeat)", 256, rss)
    if (rss1 != "" && rss2 != "")
        print "- no growth across repeated runs — VmRSS after the c=256 run " mb(rss1) " MB, after running it again " mb(rss2) " MB"
    else
        print "- no growth across repeated runs — n/a (no repeat run)"
}

END {
    if (n_modes == 0) { print "(no results)"; exit }
    for (i = 1; i <= n_modes; i++) {
        m = modes[i]
        print ""
        print "### slapd " m (m == "nosync" ? " (`dbnosync`)" : " (every write synced)")
        print ""
        print "| scenario | c | gateway ops/s | raw ops/s | gw/raw | gateway p50 / p99 ms | raw p50 / p99 ms | gateway CPU s per 1k req | slapd CPU s per 1k (gw / raw) | gateway VmHWM / VmRSS MB | errors (gw / raw) |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (j = 1; j <= n_scs[m]; j++) {
            sc = scs[m, j]
            for (l = 1; l <= n_cs[m, sc]; l++)
                row(m, sc, cs[m, sc, l])
        }
        targets(m)
    }
}
