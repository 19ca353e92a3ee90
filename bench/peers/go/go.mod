module tether/bench/peers/go

go 1.19
