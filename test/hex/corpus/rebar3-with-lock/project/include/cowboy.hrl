%% header
