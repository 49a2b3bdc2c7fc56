# Fan-out by client count, both servers and the raw limit: delivered messages per second at
# saturation (left) and p99 latency at a fixed offered rate (right).
#   gnuplot -e "datafile='fanout.dat'; outfile='chart.png'" chart.gp
# Columns of datafile: clients les_tp rust_tp raw_tp les_p99 rust_p99 raw_p99
set terminal pngcairo size 1200,480 font "Sans,11"
set output outfile
set multiplot layout 1,2 title "rust-echo vs laravel-echo-server 1.6.3 — fan-out to one public channel (one CPU core each)"
set logscale x
set grid
set key top left
set xlabel "clients"
set format y "%.1s%c"
set ylabel "delivered messages / s (saturation)"
set yrange [0:*]
plot datafile using 1:3 with linespoints lw 2 pt 7 lc rgb "#c0392b" title "rust-echo", \
     datafile using 1:4 with linespoints lw 2 pt 6 dt 2 lc rgb "#7f8c8d" title "raw broadcaster", \
     datafile using 1:2 with linespoints lw 2 pt 5 lc rgb "#2c7bb6" title "laravel-echo-server"
set logscale y
set format y "%g"
set yrange [*:*]
set key top left
set ylabel "p99 latency, ms (fixed offered rate, log)"
plot datafile using 1:6 with linespoints lw 2 pt 7 lc rgb "#c0392b" title "rust-echo", \
     datafile using 1:7 with linespoints lw 2 pt 6 dt 2 lc rgb "#7f8c8d" title "raw broadcaster", \
     datafile using 1:5 with linespoints lw 2 pt 5 lc rgb "#2c7bb6" title "laravel-echo-server"
unset multiplot
